"""Fixtures for the browser tests: the built site served on 127.0.0.1 under a sub-path, and Debian's chromium
driven by Playwright, with every request to anywhere but that server blocked.

Build the site first (`python tools/build_docs.py`), or run `tools/check_site.sh`, which does both. Without the
site, chromium or Playwright the tests are skipped, unless KMEANS_SITE_STRICT=1 (as check_site.sh sets), when
they fail.
"""

import functools
import http.server
import os
import threading
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sitespec import BASE_PATH, DESKTOP

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("KMEANS_SITE_DIR", ROOT / "_docs"))
CHROMIUM = os.environ.get("KMEANS_CHROMIUM", "/usr/bin/chromium")
STRICT = os.environ.get("KMEANS_SITE_STRICT") == "1"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def missing(reason: str):
    "Skip, or fail when the caller asked for strict checks."
    if STRICT:
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


class _Handler(http.server.SimpleHTTPRequestHandler):
    "Serve the site under BASE_PATH only; anything else is a 404."

    def translate_path(self, path):
        p = urllib.parse.urlsplit(path).path
        if not p.startswith(BASE_PATH):
            return str(SITE / "__not_the_site__")
        return super().translate_path("/" + p[len(BASE_PATH):])

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def base_url():
    "The site's address, served from _docs/ on 127.0.0.1."
    if not (SITE / "index.html").is_file():
        missing(f"no site in {SITE}: build it with `python tools/build_docs.py`")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(SITE)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}{BASE_PATH}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    "Debian's chromium, headless, launched by Playwright's own driver (no browser download)."
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed: pip install playwright (never `playwright install`)")
    if not Path(CHROMIUM).exists():
        missing(f"no chromium at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@dataclass
class Visit:
    "A browser tab on the site, with what it tried to reach elsewhere and the errors it logged."

    page: object  # playwright's Page
    context: object  # playwright's BrowserContext
    base: str
    blocked: list[str] = field(default_factory=list)  # requests to anywhere but the site, which were refused
    errors: list[str] = field(default_factory=list)  # uncaught exceptions and console errors
    failed: list[str] = field(default_factory=list)  # requests to the site that got an error status, such as a 404

    def open(self, path: str = ""):
        "Load a page of the site (its pictures are in the page, its scripts and styles local); return the response."
        return self.page.goto(self.base + path, wait_until="load")


@pytest.fixture(scope="session")
def contexts(browser):
    "One browser context for each viewport, shared by the tests (each test opens its own tab)."
    made = {}

    def get(viewport):
        key = (viewport["width"], viewport["height"])
        if key not in made:
            made[key] = browser.new_context(viewport=viewport, device_scale_factor=1, service_workers="block")
        return made[key]

    yield get
    for c in made.values():
        c.close()


@pytest.fixture
def visit(contexts, base_url):
    "Open a tab on the site at a given viewport (DESKTOP by default); requests off 127.0.0.1 are blocked."
    tabs = []
    origin = base_url[: base_url.index("/", len("http://"))]

    def make(viewport=None) -> Visit:
        ctx = contexts(viewport or DESKTOP)
        v = Visit(ctx.new_page(), ctx, base_url)
        tabs.append(v.page)

        def route(r):
            if r.request.url.startswith(origin + "/"):
                r.continue_()
            else:
                v.blocked.append(r.request.url)
                r.abort()

        v.page.route("**/*", route)
        v.page.on("pageerror", lambda e: v.errors.append(f"exception: {e}"))
        v.page.on("console", lambda m: m.type == "error" and v.errors.append(f"console: {m.text}"))
        v.page.on("response", lambda r: r.status >= 400 and v.failed.append(f"{r.status} {r.url}"))
        return v

    yield make
    for t in tabs:
        t.close()
