#!/usr/bin/env python
"""Take the README's drop-in screenshot: the cart page of a fresh ``wagtail start`` project that
followed the README's "Add it to your site in 10 minutes" steps, in Debian's Chromium.

    .venv/bin/python scripts/dropin_screenshot.py [--out docs/screenshots/dropin-cart.png]

The project is built by ``tests/dropin_project.py`` (the same code, reading the same README
snippets, as ``tests/test_dropin_install.py``) in a temp dir and served by ``runserver`` on a
free loopback port, stopped by its PID whatever happens. Never runs ``playwright install``.
"""

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.dropin_project import build, free_port  # noqa: E402
from tests.fixtures_browser import CHROMIUM, CHROMIUM_ARGS, VIEWPORT  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "dropin-cart.png"))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="lockedcarts-dropin-") as workdir:
        project, _outputs = build(workdir, free_port())
        project.serve()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport=VIEWPORT)
                page.goto(project.url("/"))
                page.locator(".lockedcarts-add input[name=quantity]").fill("2")
                page.locator(".lockedcarts-add button").click()
                page.wait_for_load_state()
                page.goto(project.url("/cart/"))
                page.screenshot(path=args.out, full_page=False)
                browser.close()
        finally:
            project.stop()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
