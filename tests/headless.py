"""Headless Chromium for the browser tests: Debian's ``chromium`` driven by playwright for Python.

playwright's own browser download (``playwright install``) is never used: the tests launch the system
chromium through ``executable_path``, found on PATH or installed with apt when running as root.
"""

import functools
import os
import shutil
import subprocess
from contextlib import contextmanager

import pytest

NAMES = ("chromium", "chromium-browser")
# Every address but 127.0.0.1 resolves to nothing, so the browser itself cannot reach the internet even
# where a request escaped the page's route; the tests only ever use file:, data: and 127.0.0.1.
ARGS = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


@functools.cache
def chromium_path():
    """Path of the system chromium; installs Debian's package with apt-get when root and it is missing.

    Skips only where no chromium is installed and this process cannot install one.
    """
    for name in NAMES:
        if path := shutil.which(name):
            return path
    if not shutil.which("apt-get"):
        pytest.skip("headless browser test needs chromium: none on PATH and no apt-get to install it "
                    "(install your distribution's chromium package)")
    if os.geteuid() != 0:
        pytest.skip("headless browser test needs chromium: none on PATH and not root to install it "
                    "(run: sudo apt-get install chromium)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-q"],
                ["apt-get", "install", "-y", "-q", "-o", "DPkg::Lock::Timeout=300", "chromium"]):
        done = subprocess.run(cmd, env=env, check=False, capture_output=True, text=True, timeout=900)
        if done.returncode:
            pytest.fail(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    for name in NAMES:
        if path := shutil.which(name):
            return path
    pytest.fail("apt-get installed chromium but no chromium is on PATH")


@contextmanager
def launch():
    """A headless Chromium browser (the system one), closed on exit."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=ARGS, timeout=60_000)
        try:
            yield browser
        finally:
            browser.close()


class Watch:
    """What must not happen on a page: console errors, uncaught exceptions, failed or forbidden requests.

    ``allowed(url)`` says which requests may go out; every other one is aborted and recorded, so a page
    that needs the network fails instead of quietly fetching it.
    """

    def __init__(self, page, allowed):
        self.problems = []
        self.allowed = allowed
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"uncaught exception: {exc}"))
        page.on("requestfailed", self._failed)
        page.route("**/*", self._route)

    def _console(self, msg):
        if msg.type == "error":
            self.problems.append(f"console error: {msg.text} at {msg.location.get('url')}")

    def _failed(self, request):
        if self.allowed(request.url):  # a blocked request is recorded once, by _route
            self.problems.append(f"request failed: {request.url} ({request.failure})")

    def _route(self, route):
        url = route.request.url
        if self.allowed(url):
            route.continue_()
        else:
            self.problems.append(f"blocked request (network disabled): {url}")
            route.abort("internetdisconnected")
