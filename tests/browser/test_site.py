"""The website, in a real browser: every page loads with its pictures (each with alt text) and its favicon, shows
API entries that read as Python with a table of parameters, links only to itself with relative links that resolve,
links to the previous and next lesson, lists the lessons numbered and grouped in the sidebar, scrolls no code or output
sideways, finds `KMeans` in a search whose results are readable prose, and stays readable at phone width.

Run: `tools/check_site.sh` (installs chromium, builds, tests), or, with the site built,
`python -m pytest tests/browser -q`.
"""

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sitespec import BASE_PATH, DESKTOP, PHONE, SCREENSHOTS, WIDE, doc_hosts, nbpages, page as page_spec, pages

PAGES = [p.html for p in pages()]
DOC_HOSTS = doc_hosts()  # the published site: pages must link to each other relatively


def test_sidebar_lists_every_notebook_in_order(visit):
    "Home, then the lessons numbered from 1 in file-name order, under Building it and Using it, as the README lists them."
    v = visit()
    v.open("index.html")
    links = v.page.eval_on_selector_all("#quarto-sidebar a.sidebar-link[href]", """els => els.map(e => ({
        href: e.getAttribute('href'), text: e.textContent.trim(),
        section: e.closest('.sidebar-item-section') ? e.closest('.sidebar-item-section').querySelector('.menu-text').textContent.trim() : ''}))""")
    assert [a["href"] for a in links] == PAGES, "the sidebar must list every notebook, index first, then in file-name order"
    assert [a["text"] for a in links] == [p.label for p in pages()], "Home, then each lesson as `N. Title`"
    want = [("" if p.group == nbpages.HOME else p.group) for p in pages()]
    assert [a["section"] for a in links] == want, "lessons 00..07 under Building it, 08 and later under Using it"
    numbers = [p.number for p in pages() if p.number]
    assert numbers == list(range(1, len(numbers) + 1))


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


_ENTRIES_JS = """() => {
    // each API entry: the heading nbdev's show_doc gives it, then its signature, its docstring and its table
    const out = [];
    for (const h of document.querySelectorAll('main .cell-output-markdown h3')) {
        const id = h.id || (h.parentElement.tagName === 'SECTION' ? h.parentElement.id : '');
        let sig = null, rows = null;
        for (let e = h.nextElementSibling; e && !['H2', 'H3', 'HR'].includes(e.tagName); e = e.nextElementSibling) {
            const pre = e.tagName === 'PRE' ? e : e.querySelector('pre');
            if (pre && sig === null) sig = pre.innerText;
            const t = e.tagName === 'TABLE' ? e : e.querySelector('table');
            if (t && rows === null) rows = [...t.rows].map(r => [...r.cells].map(c => c.innerText.trim()));
        }
        out.push({id, heading: h.innerText.trim(), sig, rows});
    }
    return out;
}"""


def _api_entries(v, html, spec) -> list[str]:
    """Each function, class and patched method of the notebook's exported cells has an entry that reads as Python: a
    heading with its name as written (dunders intact), `class Name(` or `def name(`, no type that the source does not
    write (none guessed from a default, such as `NoneType`), and a table with a row for each parameter: name, the
    annotation as written, default, details. scikit-learn's plumbing (`__sklearn_tags__`) has no entry."""
    problems = []
    found = {e["id"]: e for e in v.page.evaluate(_ENTRIES_JS)}
    for e in found.values():
        if "NoneType" in (e["sig"] or "") or any("NoneType" in c for r in e["rows"] or [] for c in r):
            problems.append(f"#{e['id']}: a type guessed from a default: {e['sig']!r}")
        if e["id"] and e["heading"].lower() != e["id"]:
            problems.append(f"#{e['id']}: the heading reads {e['heading']!r}")
        if re.search(r"__sklearn_\w+__", e["heading"]):
            problems.append(f"#{e['id']}: scikit-learn's plumbing has an entry")
    for entry in spec.entries:
        e = found.get(entry.anchor)
        if e is None:
            problems.append(f"no entry #{entry.anchor} for {entry.name}")
            continue
        short = entry.name.rsplit(".", 1)[-1]
        if e["heading"] != entry.name:
            problems.append(f"#{entry.anchor}: heading {e['heading']!r}, expected {entry.name!r}")
        if not re.match(rf"(async\s+)?{entry.kind}\s+{re.escape(short)}\b", (e["sig"] or "").strip()):
            problems.append(f"#{entry.anchor}: the signature does not start `{entry.kind} {short}`: {e['sig']!r}")
        if not entry.params or not entry.own_init:
            continue
        if not e["rows"] or [c.lower() for c in e["rows"][0]] != ["parameter", "type", "default", "details"]:
            problems.append(f"#{entry.anchor}: no table of parameters (parameter, type, default, details): {e['rows']}")
            continue
        rows = {r[0].lstrip("*"): r for r in e["rows"][1:]}
        for name, anno in entry.params:
            r = rows.get(name)
            if r is None:
                problems.append(f"#{entry.anchor}: no row for the parameter {name}")
            elif re.sub(r"\s", "", r[1]) != re.sub(r"\s", "", anno or ""):
                problems.append(f"#{entry.anchor}: {name}'s type reads {r[1]!r}; the source writes {anno!r}")
    return problems


def _prev_next(v, html) -> list[str]:
    "The foot of the page links to the page before it and the page after it, in the sidebar's order."
    i = PAGES.index(html)
    got = v.page.evaluate("""() => ({prev: document.querySelector('.page-navigation .nav-page-previous a')?.getAttribute('href') || null,
                                     next: document.querySelector('.page-navigation .nav-page-next a')?.getAttribute('href') || null})""")
    want = {"prev": PAGES[i - 1] if i else None, "next": PAGES[i + 1] if i + 1 < len(PAGES) else None}
    return [f"{k} link {got[k]!r}, expected {want[k]!r}" for k in want if got[k] != want[k]]


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
    """The page loads from the local server alone (nothing fails, no 404), with its title, its pictures, its API
    entries, working links, and links to the previous and next page."""
    v = visit()
    r = v.open(html)
    assert r is not None and r.ok, f"{html}: HTTP {r and r.status}"
    spec = next(p for p in pages() if p.html == html)
    problems = []
    title = v.page.locator("h1").first.inner_text().strip()
    if title != spec.title:
        problems.append(f"title {title!r}, expected {spec.title!r}")
    problems += _pictures(v, html, spec) + _api_entries(v, html, spec) + _links(v, html, base_url) + _prev_next(v, html)
    problems += [f"asked another host for {u}" for u in v.blocked] + v.errors + [f"failed: {u}" for u in v.failed]
    assert not problems, f"{html}:\n  " + "\n  ".join(problems)


KMEANS_PAGE = next(p.html for p in pages() if "KMeans" in p.api)  # the lesson that defines the estimator


def test_search_finds_kmeans(visit):
    v = visit()
    v.open("index.html")
    box = v.page.locator("#quarto-search input")
    box.click()
    box.fill("KMeans")
    results = v.page.locator(".smalldocs-search-results a.search-result")
    results.first.wait_for(state="visible")
    hrefs = results.evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert any(h.split("#")[0].endswith(KMEANS_PAGE) for h in hrefs), hrefs
    first = next(i for i, h in enumerate(hrefs) if h.split("#")[0].endswith(KMEANS_PAGE))
    results.nth(first).click()
    v.page.wait_for_load_state("load")
    assert v.page.url.split("#")[0].endswith("/" + KMEANS_PAGE)
    assert page_spec(KMEANS_PAGE).title in v.page.locator("h1").first.inner_text()
    assert not v.blocked and not v.errors, (v.blocked, v.errors)


_CONTRAST_JS = """els => {
    // WCAG's contrast ratio of each element's text on the background it is drawn on (the first opaque one behind it)
    const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => { const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
                                 return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
    const bg = e => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
                                                       if (c.length === 3 || c[3] > 0.5) return c.slice(0, 3); }
                      return [255, 255, 255]; };
    return els.filter(e => e.innerText.trim()).map(e => {
        const a = lum(rgb(getComputedStyle(e).color)), b = lum(bg(e));
        return {cls: e.className, text: e.innerText.slice(0, 40), ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)};
    });
}"""


@pytest.mark.parametrize("query", ["KMeans", "silhouette", "empty cluster"])
def test_search_results_are_readable(visit, query):
    "Every line of every result (page, section, snippet) has a contrast of 4.5:1 or more (WCAG AA) on its background."
    v = visit()
    v.open("distance.html")
    box = v.page.locator("#quarto-search input")
    box.click()
    box.fill(query)
    v.page.locator(".smalldocs-search-results a.search-result").first.wait_for(state="visible")
    if query == "KMeans":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        v.page.screenshot(path=str(SCREENSHOTS / "search-desktop.png"))
    found = v.page.eval_on_selector_all(".smalldocs-search-results .search-result, .smalldocs-search-results .search-result *", _CONTRAST_JS)
    low = [f for f in found if f["ratio"] < 4.5]
    assert found and not low, f"text under 4.5:1: {low[:5]}"


def test_search_snippets_are_prose(visit):
    "The search index holds the pages' prose: no code (tests, imports), no printed output, no `source` link text."
    v = visit()
    r = v.context.request.get(v.base + "search.json")
    assert r.ok
    entries = r.json()
    assert entries and all(e["href"].split("#")[0] in PAGES for e in entries)
    code = re.compile(r"\btest_(eq|close|fail|ne)\(|^\s*(from \w[\w.]* )?import \w|\bdef \w+\(|\bassert \w|>>>")
    bad = [(e["href"], e["text"][:80]) for e in entries if code.search(e["text"])]
    assert not bad, f"code in the search index: {bad[:5]}"
    source = [(e["href"], e["text"][-40:]) for e in entries if re.search(r"(^|\s)source$", e["text"].strip())]
    assert not source, f"the API entries' `source` link is in the index: {source[:5]}"


def test_code_and_output_do_not_scroll_sideways(visit):
    """At 1400 px no code or output block scrolls sideways (the issue's bar: fewer than one in ten; long tables may
    scroll in their own box), and none at all among printed output and error messages. The text column is wide."""
    v = visit(WIDE)
    wide, total, outputs, narrow = [], 0, [], []
    for html in PAGES:
        v.open(html)
        m = v.page.evaluate("""() => {
            const pres = [...document.querySelectorAll('main pre')];
            const scrolls = e => e.scrollWidth > e.clientWidth + 1;
            return {n: pres.length, column: document.querySelector('main').getBoundingClientRect().width,
                    wide: pres.filter(scrolls).map(e => e.innerText.split('\\n')[0].slice(0, 60)),
                    outputs: pres.filter(e => e.closest('.cell-output, .cell-output-stdout, .cell-output-stderr, .cell-output-error')
                                              && !e.closest('.cell-output-markdown')).filter(scrolls).length};
        }""")
        total += m["n"]
        wide += [f"{html}: {t}" for t in m["wide"]]
        if m["outputs"]:
            outputs.append(f"{html}: {m['outputs']}")
        if m["column"] < 820:
            narrow.append(f"{html}: {m['column']:.0f}px")
    assert total and len(wide) * 10 < total, f"{len(wide)} of {total} blocks scroll sideways: {wide[:8]}"
    assert not outputs, f"printed output or error messages scroll sideways: {outputs}"
    assert not narrow, f"the text column is narrower than 820 px at 1400 px: {narrow}"


@pytest.mark.skipif(os.environ.get("KMEANS_ALT_PENDING") == "1",
                    reason="KMEANS_ALT_PENDING=1: the notebooks' plotting cells do not all have `#| fig-alt:` yet")
def test_every_picture_has_alt_text(visit):
    """Every picture in the content has alt text: the sentence of its cell's `#| fig-alt:` directive. Strict: set
    KMEANS_ALT_PENDING=1 to skip it only while notebooks still lack the directives."""
    v = visit()
    missing = []
    for html in PAGES:
        v.open(html)
        bare = v.page.eval_on_selector_all("main img", "els => els.filter(e => !(e.getAttribute('alt') || '').trim()).length")
        if bare:
            missing.append(f"{html}: {bare} picture(s) without alt text ({page_spec(html).notebook}: "
                           f"{page_spec(html).alt_missing} plotting cell output(s) without `#| fig-alt:`)")
    assert not missing, "\n  ".join(["pictures without alt text:", *missing])


def test_favicon(visit):
    "Every page names a favicon that loads, so the browser asks for no /favicon.ico that is not there."
    v = visit()
    for html in ("index.html", PAGES[-1]):
        v.open(html)
        href = v.page.eval_on_selector("link[rel~='icon']", "e => e.getAttribute('href')")
        assert href and not href.startswith(("/", "http")), href
        r = v.context.request.get(v.base + href)
        assert r.ok and r.headers.get("content-type", "").startswith("image/"), (href, r.status, r.headers)


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
        // a block wider than the screen must scroll in a box of its own (a long table may); nothing may stick out
        const boxed = e => { for (let a = e.parentElement; a && a.tagName !== 'MAIN'; a = a.parentElement)
                                 if (['auto', 'scroll'].includes(getComputedStyle(a).overflowX))
                                     return a.getBoundingClientRect().right <= window.innerWidth + 1;
                             return false; };
        const wide = [...document.querySelectorAll('main pre, main img, main table')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !boxed(e)).map(e => e.tagName);
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
    links = v.page.locator("#quarto-sidebar a.sidebar-link[href]")
    links.first.wait_for(state="visible")
    assert links.count() == len(PAGES)
    links.nth(PAGES.index(KMEANS_PAGE)).click()
    v.page.wait_for_load_state("load")
    assert v.page.url.endswith("/" + KMEANS_PAGE)


@pytest.mark.parametrize("html", list(dict.fromkeys(["index.html", "distance.html", "training.html", KMEANS_PAGE, "guarantees.html"])))
def test_screenshots(visit, html):
    """Pictures for a person to look at, at desktop and phone width: the top of the page, and the page scrolled to
    its first picture or API entry. KMEANS_SCREENSHOTS_FULL=1 adds the whole page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, size in (("desktop", WIDE), ("phone", PHONE)):
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
