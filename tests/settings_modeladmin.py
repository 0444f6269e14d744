"""Test settings with the optional ``wagtail_lockedcarts.modeladmin`` sub-app installed (the
modeladmin tests run under these in their own pytest process: INSTALLED_APPS is fixed per process)."""

from tests.settings import *  # noqa: F401,F403
from tests.settings import INSTALLED_APPS

INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "wagtail_modeladmin"]
INSTALLED_APPS.insert(INSTALLED_APPS.index("wagtail_lockedcarts") + 1, "wagtail_lockedcarts.modeladmin")
INSTALLED_APPS.insert(INSTALLED_APPS.index("wagtail_lockedcarts.modeladmin") + 1, "wagtail_modeladmin")

# Its own test database: this process runs while the main test process still holds its own.
from tests.settings import DATABASES as _DATABASES  # noqa: E402

DATABASES = {alias: {**config, "TEST": {**config.get("TEST", {})}} for alias, config in _DATABASES.items()}
for _config in DATABASES.values():
    if _config["TEST"].get("NAME"):
        _config["TEST"]["NAME"] = f"{_config['TEST']['NAME']}_modeladmin"
