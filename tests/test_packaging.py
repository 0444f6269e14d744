"""The wheel a site owner installs carries everything the app needs, and nothing of ours."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q", "-w", str(out)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = out.glob("wagtail_lockedcarts-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


@pytest.mark.parametrize(
    "path",
    [
        "wagtail_lockedcarts/lifecycle.py",
        "wagtail_lockedcarts/migrations/0001_initial.py",
        "wagtail_lockedcarts/templates/wagtail_lockedcarts/cart.html",
        "wagtail_lockedcarts/templates/wagtail_lockedcarts/admin/confirm_action.html",
        "wagtail_lockedcarts/templates/wagtail_lockedcarts/emails/daily_notification.txt",
        "wagtail_lockedcarts/static/wagtail_lockedcarts/css/admin.css",
        "wagtail_lockedcarts/locale/de/LC_MESSAGES/django.mo",
        "wagtail_lockedcarts/modeladmin/options.py",
        "wagtail_lockedcarts/management/commands/lockedcarts_send_digest.py",
    ],
)
def test_the_wheel_carries_code_templates_migrations_static_and_translations(wheel_files, path):
    assert path in wheel_files


def test_every_migration_and_template_of_the_source_is_in_the_wheel(wheel_files):
    package = ROOT / "wagtail_lockedcarts"
    wanted = {
        str(path.relative_to(ROOT))
        for pattern in ("migrations/*.py", "templates/**/*.html", "templates/**/*.txt")
        for path in package.glob(pattern)
    }
    assert wanted and wanted <= wheel_files


def test_the_wheel_leaves_out_the_example_site_and_the_tests(wheel_files):
    assert not [name for name in wheel_files if name.startswith(("example_site/", "tests/", "shop/"))]
    assert not [name for name in wheel_files if "__pycache__" in name]
