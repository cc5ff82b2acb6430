"""The website, in a real browser: every page loads with its pictures, shows its API signatures, links only to
itself with relative links that resolve, finds `KMeans` in search, and stays readable at phone width.

Run: `tools/check_site.sh` (installs chromium, builds, tests), or, with the site built,
`python -m pytest tests/browser -q`.
"""

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sitespec import BASE_PATH, DESKTOP, PHONE, SCREENSHOTS, doc_hosts, pages

PAGES = [p.html for p in pages()]
DOC_HOSTS = doc_hosts()  # the published site: pages must link to each other relatively


def test_sidebar_lists_every_notebook_in_order(visit):
    v = visit()
    v.open("index.html")
    hrefs = v.page.eval_on_selector_all("#quarto-sidebar a.sidebar-link", "els => els.map(e => e.getAttribute('href'))")
    assert hrefs == PAGES, "the sidebar must list every notebook, index first, then in file-name order"
    texts = v.page.eval_on_selector_all("#quarto-sidebar a.sidebar-link", "els => els.map(e => e.textContent.trim())")
    assert texts[1:] == [p.title for p in pages()][1:], "each lesson is listed by its title"


def test_home_page_shows_a_fit_and_the_quick_start(visit):
    v = visit()
    assert v.open("index.html").ok
    page = v.page
    assert page.locator("h1").first.inner_text().strip()
    headings = [h.strip().lower() for h in page.locator("main h2").all_inner_texts()]
    assert "quick start" in headings
    code = "\n".join(page.locator("main pre").all_inner_texts())
    assert "KMeans(" in code and ".fit(" in code, "the quick start fits a KMeans"
    widths = page.eval_on_selector_all("main img", "els => els.map(e => e.naturalWidth)")
    assert widths and all(w > 0 for w in widths), "the picture of a fit is shown"
    assert not v.blocked and not v.errors, (v.blocked, v.errors)


def _pictures(v, html, spec) -> list[str]:
    "Every picture on the page has loaded and has a size; the page has at least those its notebook saved."
    v.page.wait_for_function("[...document.images].every(i => i.complete)")
    imgs = v.page.eval_on_selector_all(
        "main img", """els => els.map(e => ({src: e.currentSrc.slice(0, 60), w: e.naturalWidth, h: e.naturalHeight,
                                             shown: e.getBoundingClientRect().width}))""")
    problems = [f"picture did not load: {i}" for i in imgs if not (i["w"] > 0 and i["h"] > 0)]
    problems += [f"picture is not shown: {i}" for i in imgs if i["w"] > 0 and not i["shown"] > 0]
    if len(imgs) < spec.pictures:
        problems.append(f"{len(imgs)} pictures on the page, {spec.pictures} saved in {spec.notebook}")
    return problems


def _signatures(v, html, spec) -> list[str]:
    "Each public function and class of the notebook's exported cells has an entry: a heading, then its signature."
    problems = []
    for name in spec.api:
        anchor = name.lower()
        found = v.page.evaluate(
            """id => { const h = document.getElementById(id);
                       if (!h) return null;
                       let e = h.nextElementSibling;
                       while (e && e.tagName !== 'PRE' && !e.querySelector('pre')) e = e.nextElementSibling;
                       return {heading: h.innerText.trim(), sig: e ? (e.tagName === 'PRE' ? e : e.querySelector('pre')).innerText : null}; }""",
            anchor)
        if not found:
            problems.append(f"no entry #{anchor} for {name}")
        elif found["heading"] != name or not re.search(rf"\b(def|class)\s+{re.escape(name)}\b", found["sig"] or ""):
            problems.append(f"entry #{anchor} has no signature for {name}: {found}")
    return problems


_fetched: dict[str, str | None] = {}  # page URL -> its HTML, shared by the tests, so each page is fetched once


def _links(v, html, base_url) -> list[str]:
    "Links to the site are relative, stay in its folder and resolve, anchors included; none go to the published site."
    origin = base_url.removesuffix(BASE_PATH) + "/"
    problems = []
    links = v.page.eval_on_selector_all("a[href]", "els => els.map(e => [e.getAttribute('href'), e.href])")
    for raw, url in links:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            continue
        if parts.hostname in DOC_HOSTS:
            problems.append(f"{raw!r} points at the published site; it must be relative")
            continue
        if not url.startswith(origin):
            continue  # another site (GitHub issues, say): never loaded by the page
        if raw.startswith(("/", "http:", "https:")):
            problems.append(f"{raw!r} is not relative")
            continue
        if not url.startswith(base_url):
            problems.append(f"{raw!r} leaves the site's folder: {url}")
            continue
        page_url = url.split("#")[0]
        if page_url not in _fetched:
            r = v.context.request.get(page_url)
            _fetched[page_url] = r.text() if r.ok else None
        body = _fetched[page_url]
        if body is None:
            problems.append(f"{raw!r}: {page_url} does not load")
        elif parts.fragment and not re.search(rf'\sid="{re.escape(parts.fragment)}"', body):
            problems.append(f"{raw!r}: no #{parts.fragment} on {page_url[len(base_url):]}")
    return problems


@pytest.mark.parametrize("html", PAGES)
def test_lesson_page(visit, html, base_url):
    "The page loads from the local server alone, with its title, its pictures, its API entries and working links."
    v = visit()
    r = v.open(html)
    assert r is not None and r.ok, f"{html}: HTTP {r and r.status}"
    spec = next(p for p in pages() if p.html == html)
    problems = []
    title = v.page.locator("h1").first.inner_text().strip()
    if title != spec.title:
        problems.append(f"title {title!r}, expected {spec.title!r}")
    problems += _pictures(v, html, spec) + _signatures(v, html, spec) + _links(v, html, base_url)
    problems += [f"asked another host for {u}" for u in v.blocked] + v.errors
    assert not problems, f"{html}:\n  " + "\n  ".join(problems)


def test_search_finds_kmeans(visit):
    v = visit()
    v.open("index.html")
    box = v.page.locator("#quarto-search input")
    box.click()
    box.fill("KMeans")
    results = v.page.locator(".smalldocs-search-results a.search-result")
    results.first.wait_for(state="visible")
    hrefs = results.evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert any(h.split("#")[0].endswith("training.html") for h in hrefs), hrefs
    first_training = next(i for i, h in enumerate(hrefs) if h.split("#")[0].endswith("training.html"))
    results.nth(first_training).click()
    v.page.wait_for_load_state("load")
    assert v.page.url.split("#")[0].endswith("/training.html")
    assert "Training" in v.page.locator("h1").first.inner_text()
    assert not v.blocked and not v.errors, (v.blocked, v.errors)


@pytest.mark.parametrize("html", PAGES)
def test_phone_width_stays_readable(visit, html):
    "At 390 px: no sideways scrolling, a text column of at least 300 px that nothing covers, and 14 px text or more."
    v = visit(PHONE)
    v.open(html)
    m = v.page.evaluate("""() => {
        const main = document.querySelector('main').getBoundingClientRect();
        const ps = [...document.querySelectorAll('main p')].slice(0, 3);
        const side = document.querySelector('#quarto-sidebar');
        const s = side ? side.getBoundingClientRect() : null;
        const wide = [...document.querySelectorAll('main pre, main img, main table')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).map(e => e.tagName);
        const covered = ps.filter(p => { const r = p.getBoundingClientRect();
            if (r.top < 0 || r.bottom > window.innerHeight) return false;
            const e = document.elementFromPoint(r.left + 5, r.top + r.height / 2);
            return !(e && p.contains(e)); }).length;
        return {page: document.documentElement.scrollWidth, view: window.innerWidth,
                left: main.left, right: main.right, width: main.width,
                font: ps.length ? Math.min(...ps.map(p => parseFloat(getComputedStyle(p).fontSize))) : 16,
                sidebarOnScreen: !!s && s.width > 0 && s.right > 0 && s.left < window.innerWidth
                                 && getComputedStyle(side).visibility !== 'hidden',
                covered, wide};
    }""")
    problems = []
    if m["page"] > m["view"]:
        problems.append(f"the page scrolls sideways ({m['page']}px wide in a {m['view']}px view)")
    if m["left"] < 0 or m["right"] > m["view"] + 1 or m["width"] < 300:
        problems.append(f"the text column is {m['left']:.0f}..{m['right']:.0f}px")
    if m["font"] < 14:
        problems.append(f"body text is {m['font']}px")
    if m["sidebarOnScreen"] or m["covered"]:
        problems.append("the sidebar, or something else, covers the text")
    if m["wide"]:
        problems.append(f"these stick out of the screen instead of scrolling: {m['wide']}")
    assert not problems, f"{html}:\n  " + "\n  ".join(problems)


def test_phone_sidebar_opens(visit):
    v = visit(PHONE)
    v.open("distance.html")
    v.page.locator(".quarto-btn-toggle").first.click()
    links = v.page.locator("#quarto-sidebar a.sidebar-link")
    links.first.wait_for(state="visible")
    assert links.count() == len(PAGES)
    links.nth(PAGES.index("training.html")).click()
    v.page.wait_for_load_state("load")
    assert v.page.url.endswith("/training.html")


@pytest.mark.parametrize("html", ["index.html", "distance.html", "training.html"])
def test_screenshots(visit, html):
    """Pictures for a person to look at, at desktop and phone width: the top of the page, and the page scrolled to
    its first picture or API entry. KMEANS_SCREENSHOTS_FULL=1 adds the whole page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        v = visit(size)
        v.open(html)
        stem = SCREENSHOTS / f"{html.removesuffix('.html')}-{name}"
        v.page.screenshot(path=f"{stem}-top.png")
        if os.environ.get("KMEANS_SCREENSHOTS_FULL") == "1":  # before scrolling, or the sticky navbar lands mid-page
            v.page.screenshot(path=f"{stem}-full.png", full_page=True)
        target = v.page.locator("main .cell-output-display img, main .cell-output-markdown h3").first
        if target.count():
            # instant, not the theme's smooth scrolling; 70 px lower, below the sticky navbar
            target.evaluate("e => window.scrollTo({top: (e.closest('.cell') || e).getBoundingClientRect().top + window.scrollY - 70, behavior: 'instant'})")
            v.page.screenshot(path=f"{stem}-detail.png")
        assert Path(f"{stem}-top.png").stat().st_size > 10_000
