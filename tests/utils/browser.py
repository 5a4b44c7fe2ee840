"""Headless Debian Chromium for the browser tests (Temporal Web UI with the codec server, the
overlay viewer), driven by Playwright.

Why Debian's Chromium and not Playwright's own download: only package registries are reachable
here, so `playwright install` cannot fetch its browser; `deploy/bootstrap.sh` installs the
``chromium`` package and Playwright drives that executable.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser, async_playwright

#: Where Debian's package puts it; override for another system's Chromium.
CHROMIUM = Path(os.environ.get("ASCENSION_CHROMIUM", "/usr/bin/chromium"))


@asynccontextmanager
async def headless_chromium() -> AsyncIterator[Browser]:
    """A headless Chromium for one test; a clear failure (not a skip) when it is missing."""
    if not CHROMIUM.exists():
        raise RuntimeError(
            f"{CHROMIUM} is missing: run `make bootstrap` (it installs Debian's chromium) "
            "or set ASCENSION_CHROMIUM"
        )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            # Containers often run as root without a user namespace sandbox.
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        try:
            yield browser
        finally:
            await browser.close()
