"""Settings for a real ``qcluster`` started by tests/test_qcluster.py.

The same as tests/settings.py, plus what the subprocess needs to see the test's world: the test
database pytest-django created (``LOCKEDCARTS_QCLUSTER_DB``), e-mail written to files in
``LOCKEDCARTS_MAIL_DIR`` so the test can read them, and a real (not sync) queue.
"""

import os

from tests.settings import *  # noqa: F401,F403
from tests.settings import DATABASES, Q_CLUSTER

if os.environ.get("LOCKEDCARTS_QCLUSTER_DB"):
    DATABASES = {"default": {**DATABASES["default"], "NAME": os.environ["LOCKEDCARTS_QCLUSTER_DB"]}}

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ.get("LOCKEDCARTS_MAIL_DIR", "/tmp/lockedcarts-qcluster-mail")

Q_CLUSTER = {**Q_CLUSTER, "sync": False, "workers": 1, "poll": 0.2}
