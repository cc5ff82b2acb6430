#!/usr/bin/env python
"""Build the documentation website into `_docs/`, offline, without Quarto, from the notebooks' saved outputs.

    python tools/build_docs.py            # process nbs/*.ipynb, render _docs/, check every link; exit 1 on a broken one

What it does, step by step:

1. **Process** each notebook with nbdev's own documentation processors (front matter, `show_doc` cells after
   exported definitions, hidden and exported cells removed, "Exported source" folds), as `nbdev-docs` does before
   it calls Quarto. One processor is replaced: to fill in the `show_doc` signatures nbdev runs exported cells,
   import cells and `show_doc` cells; here a cell runs only if it is exported, is nothing but imports, or is
   nothing but `show_doc` calls. Every other cell keeps the output saved in the notebook and is never run.
   `show_doc` itself renders with `apidoc.ApiEntry` (tools/apidoc.py): `class KMeans(...)`, the annotations as
   written, a table of parameters from the docments, dunder names intact, scikit-learn's plumbing left out.
   Backtick names such as `KMeans` become links to their API entry, relative to the site.
2. **Stage** the processed notebooks in `build/docs_src/`, each named by its page (`nbpages.html_name`:
   `00_data.ipynb` becomes `data.ipynb`, so the page is `data.html`, as on the Quarto-built site), with
   `_quarto.yml`, `nbdev.yml`, `styles.css`, the favicon and any other files of `nbs/`, and a `sidebar.yml` from
   `nbpages.sidebar`: Home, then the lessons numbered and grouped as "Building it" and "Using it". A new notebook
   appears in the sidebar, numbered, with no further edit.
3. **Render** with smalldocs (pure Python; reads Quarto's `_quarto.yml`): navbar, sidebar, table of contents,
   highlighted code, pictures (alt text from each cell's `#| fig-alt:`), previous/next links, search. The search
   index holds prose only (no code, tables or `source` links). Links between pages are relative, so the site works
   from any base URL.
4. **Check** every `href` and `src` of every page: a local target must exist, an anchor must exist on its page,
   nothing may point at `/` or at the documentation host (links must stay relative), and no page may load a
   picture, script or stylesheet from another host. Any failure fails the build.
"""

import argparse
import ast
import functools
import html
import html.parser
import json
import multiprocessing
import os
import posixpath
import re
import shutil
import sys
import time
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import apidoc  # noqa: E402  the API entries (`show_doc`) as Python reads them
import nbpages  # noqa: E402  notebook names, front matter, order and groups, shared with the README and the tests

ROOT = Path(__file__).resolve().parents[1]
# Keys of a page's front matter that only Quarto reads; the staged file name already carries `output-file`.
QUARTO_ONLY_FRONT_MATTER = ("output-file",)
# smalldocs warnings about options it cannot use and that do not change the HTML pages.
HARMLESS = re.compile(
    r"^(format commonmark is not built|format\.html\.keep-md is ignored|unknown key format-links"
    r"|.*: (output-file|keep-md|format-links) is not read by smalldocs)"
)


# ----------------------------------------------------------------------------------------------- processing


def _should_run(cell) -> bool:  # whether `show_doc` needs this cell run
    "A cell runs only if it is exported, holds nothing but imports, or holds nothing but `show_doc` calls."
    from nbdev.processors import cell_lang

    if cell.cell_type != "code" or not cell.source or cell_lang(cell) != "python":
        return False
    if str(cell.directives_.get("eval", "")).strip().lower() == "false":
        return False
    trees = cell.parsed_()
    if not trees:
        return False
    if cell.directives_.keys() & {"export", "exports", "exporti", "exec_doc"}:
        return True
    if all(isinstance(t, (ast.Import, ast.ImportFrom)) for t in trees):
        return True
    return all(isinstance(t, ast.Expr) and isinstance(t.value, ast.Call) and getattr(t.value.func, "id", "") == "show_doc"
               for t in trees)


def _processors():
    "nbdev's documentation processors, with `exec_show_docs` that runs only what `show_doc` needs and local links."
    from fastcore.basics import str2bool
    from nbdev.processors import FilterDefaults, add_links, exec_show_docs, insert_warning

    class exec_show_docs_only(exec_show_docs):
        "Run exported cells, import cells and `show_doc` cells; leave every other cell's saved output as it is."

        def __call__(self, cell):
            if not self.nb.has_docs_ or not hasattr(self, "k"):
                return
            fm = getattr(self.nb, "frontmatter_", {})
            if str2bool(fm.get("skip_showdoc", False)):
                return
            if _should_run(cell):
                self.k.cell(cell)
            if e := self.k.exc:
                raise RuntimeError(f"show_doc failed in cell {cell.idx_}:\n{cell.source}\n{type(e).__name__}: {e}") from e

    procs = []
    for p in FilterDefaults().procs():
        if p is insert_warning:  # an HTML comment "do not edit" in each page: the staged copies are never edited
            continue
        if p is add_links:  # linked later, once the anchors of every page are known: see `link_staged`
            continue
        procs.append({exec_show_docs: exec_show_docs_only}.get(p, p))
    return procs


def front_matter(nb) -> dict:  # the YAML front matter of a notebook's first cell, raw or Markdown
    "Read the front matter that Quarto reads: a `---` YAML block in the first cell."
    return nbpages.split_front_matter(nb.cells[0].source, yaml_only=True)[0] if nb.cells else {}


def process_notebook(args: tuple[str, str]) -> tuple[str, str, str]:  # (source, staged path, a note or "")
    "Process one notebook for the docs and write it to the stage, named by its `output-file`."
    src, stage = Path(args[0]), Path(args[1])
    from fastcore.nbio import read_nb, write_nb
    from nbdev.config import get_config
    from nbdev.process import NBProcessor

    os.environ["IN_TEST"] = "1"
    apidoc.use()  # `show_doc` writes classes as classes, the annotations as written, and a table of parameters
    cfg = get_config()
    nb = read_nb(src)
    NBProcessor(nb=nb, procs=_processors(), rm_directives="quarto").process()
    fm = {**front_matter(nb), **(getattr(nb, "frontmatter_", {}) or {})}
    rel = src.relative_to(cfg.nbs_path)
    note = ""
    out_name = nbpages.html_name(rel, fm)
    if not fm.get("output-file"):  # nbdev's links use the name without its number; Quarto would keep the number: say so
        if out_name != rel.with_suffix(".html").name:
            note = f"{rel} has no output-file in its front matter: nbdev links to {out_name}, Quarto would write {rel.stem}.html"
    dest = stage / rel.parent / (Path(out_name).stem + ".ipynb")
    first = nb.cells[0] if nb.cells else None
    if first is not None and front_matter(nb):  # the staged name carries output-file: drop it from the front matter
        fm0, rest = nbpages.split_front_matter(first.source, yaml_only=True)
        keep = {k: v for k, v in fm0.items() if k not in QUARTO_ONLY_FRONT_MATTER}
        first.source = "---\n" + yaml.safe_dump(keep, sort_keys=False, allow_unicode=True) + "---\n" + rest
    dest.parent.mkdir(parents=True, exist_ok=True)
    write_nb(nb, dest)
    return str(src), str(dest), note


# ----------------------------------------------------------------------------------------------- links to the API


def symbol_index(cfg) -> dict[str, str]:  # name -> `page.html#anchor`, for this library's symbols
    "Read the library's `_modidx.py` (without importing the library): each symbol, by its full and its short name."
    f = cfg.lib_path / "_modidx.py"
    if not f.exists():
        return {}
    tree = ast.parse(f.read_text(encoding="utf-8"))
    d = next(ast.literal_eval(n.value) for n in tree.body
             if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", None) == "d")
    out: dict[str, str] = {}
    for mod, syms in d.get("syms", {}).items():
        for name, (doc, *_) in syms.items():
            out[name] = doc
            out.setdefault(name.removeprefix(mod + "."), doc)
    return out


_BACKTICKS = re.compile(r"`([^`\s]+?)(?:\(\))?`")  # a name in backticks, as nbdev's `add_links` finds them
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*(?:\{[^}]*#([\w.:-]+)[^}]*\})?\s*#*\s*$")


def heading_ids(nb) -> set[str]:  # the ids smalldocs will give the headings of a notebook
    "Find the ids of a notebook's headings, in its Markdown cells and its Markdown outputs (`show_doc`)."
    from smalldocs.markdown import pandoc_id

    texts = []
    for c in nb.cells:
        if c.cell_type == "markdown":
            texts.append(c.source)
        for o in c.get("outputs", []):
            md = (o.get("data") or {}).get("text/markdown")
            if md:
                texts.append("".join(md) if isinstance(md, list) else md)
    ids = set()
    for t in texts:
        fence = False
        for line in (t or "").splitlines():
            if line.lstrip().startswith(("```", "~~~")):
                fence = not fence
            elif not fence and (m := _HEADING.match(line)):
                if m.group(2):
                    ids.add(m.group(2))
                else:
                    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", m.group(1))
                    ids.add(pandoc_id(text))
    return ids


def link_symbols(md: str, symbols: dict[str, str], anchors: dict[str, set[str]]) -> str:  # the Markdown, linked
    """Link each name in backticks that the library documents to its entry, as nbdev's `add_links` does, but
    relative to the site, and only where the entry exists: a method with no entry of its own goes to its class's."""
    def target(name: str) -> str | None:
        doc = symbols.get(name)
        if not doc:
            return None
        page, _, anchor = doc.partition("#")
        ids = anchors.get(page)
        if ids is None:
            return None
        while anchor and anchor not in ids:
            anchor = anchor.rpartition(".")[0]
        return f"/{page}#{anchor}" if anchor else None

    def sub(m: re.Match) -> str:
        s, e = m.span()
        line = m.string
        if line[max(0, s - 1) : s] == "[" and line[e : e + 2] == "](":  # already the text of a link
            return m.group(0)
        url = target(m.group(1))
        if url is None:
            return m.group(0)
        name = m.group(1).replace("\\", r"\\") + ("()" if m.group(0).endswith("()`") else "")
        return f"[`{name}`]({url})"

    out, fence = [], False
    for line in md.splitlines(keepends=True):
        if line.startswith("```"):
            fence = not fence
        elif not fence and not line.startswith("    "):
            line = _BACKTICKS.sub(sub, line)
        out.append(line)
    return make_relative("".join(out))


@functools.lru_cache(None)
def _site_prefixes() -> tuple[str, ...]:
    "The absolute URLs of the documentation site, which links to it must drop to stay relative."
    from nbdev.config import get_config

    cfg = get_config()
    urls = {f"{cfg.doc_host}{cfg.doc_baseurl}".rstrip("/")}
    nbdev_yml = cfg.nbs_path / "nbdev.yml"
    if nbdev_yml.exists():
        url = ((yaml.safe_load(nbdev_yml.read_text()) or {}).get("website") or {}).get("site-url")
        if url:
            urls.add(url.rstrip("/"))
    return tuple(sorted((u for u in urls if u.startswith("http")), key=len, reverse=True))


def make_relative(md: str) -> str:  # the same text, with links into the doc site from its root: `/data.html#x`
    "Turn links into the documentation host into links from the site's root, which smalldocs makes relative."
    for p in _site_prefixes():
        md = re.sub(r"(?<=[(\"'<])" + re.escape(p) + r"(?:/|(?=[)\"'>]))", "/", md)
    return md


def link_staged(staged: list[Path], stage: Path, cfg) -> None:
    "Link the backtick names of every staged notebook to the API entries that the site will have."
    from fastcore.nbio import read_nb, write_nb

    nbs = {p: read_nb(p) for p in staged}
    anchors = {p.relative_to(stage).with_suffix(".html").as_posix(): heading_ids(nb) for p, nb in nbs.items()}
    symbols = symbol_index(cfg)
    for p, nb in nbs.items():
        for c in nb.cells:
            if c.cell_type == "markdown":
                c.source = link_symbols(c.source, symbols, anchors)
            for o in c.get("outputs", []):
                data = o.get("data") or {}
                for mime in ("text/markdown", "text/html"):
                    if mime in data:
                        v = "".join(data[mime]) if isinstance(data[mime], list) else data[mime]
                        data[mime] = link_symbols(v, symbols, anchors) if mime == "text/markdown" else make_relative(v)
        write_nb(nb, p)


# ----------------------------------------------------------------------------------------------- staging


def notebooks(nbs: Path) -> list[Path]:  # every notebook of the docs, in sidebar order
    "List the notebooks that are pages (no `_` or `.` files or folders), index first, then by file name."
    return nbpages.notebooks(nbs)


def copy_other_files(nbs: Path, stage: Path) -> None:
    "Copy what the notebooks' folder holds beside notebooks (config, CSS, pictures), keeping paths."
    skip_names = {"sidebar.yml"}  # written here, from the notebooks
    for dirpath, dirnames, filenames in os.walk(nbs):
        d = Path(dirpath)
        dirnames[:] = [n for n in dirnames if not n.startswith((".", "_")) and n != "__pycache__"]
        for f in filenames:
            if f.endswith(".ipynb") or f.startswith(".") or (d == nbs and f in skip_names):
                continue
            to = stage / (d / f).relative_to(nbs)
            to.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(d / f, to)


def write_sidebar(stage: Path, nbs: Path) -> None:
    """Write `sidebar.yml`: Home, then the lessons numbered and grouped as "Building it" and "Using it", as
    `nbpages.sidebar` lays them out; a new notebook appears in the sidebar with no further edit."""
    contents = nbpages.sidebar(nbpages.pages(nbs), href=lambda p: PurePosixPath(p.html).with_suffix(".ipynb").as_posix())
    (stage / "sidebar.yml").write_text(yaml.safe_dump({"website": {"sidebar": {"contents": contents}}}, sort_keys=False,
                                                       allow_unicode=True))


# ----------------------------------------------------------------------------------------------- rendering

_SOURCE_LINK = re.compile(r"^\[source\]\([^)]*\)(\{[^}]*\})?$")  # the link beside each API entry's heading


def prose_only(rule):
    """Wrap smalldocs' rule that collects each section's text for `search.json`, so that it reads prose only: no code
    blocks (the code, its tests, printed output), no tables (an API entry's parameters) and no `source` links,
    which made most snippets code."""

    def search_text(self, state):
        tokens, kept, depth = state.tokens, [], 0
        for t in tokens:
            depth += (t.type == "table_open") - (t.type == "table_close")
            if depth or t.type in ("fence", "code_block", "table_close"):
                continue
            if t.type == "inline" and _SOURCE_LINK.match(t.content.strip()):
                continue
            kept.append(t)
        state.tokens = kept
        try:
            rule(self, state)
        finally:
            state.tokens = tokens

    search_text.prose_only = True
    return search_text


def render(stage: Path, out: Path, renames: dict[str, str]):
    "Render the staged project with smalldocs into `out`; notebook names in links are mapped to the staged ones."
    from smalldocs import markdown as sd_markdown
    from smalldocs.config import load
    from smalldocs.site import Site

    if not getattr(sd_markdown.Rules.search_text, "prose_only", False):
        sd_markdown.Rules.search_text = prose_only(sd_markdown.Rules.search_text)

    class NbdevSite(Site):
        "A smalldocs site whose pages are named by nbdev's `output-file`."

        def resolve(self, href, page, record=True):
            m = re.match(r"([^#?]*)(.*)", href or "", re.S)
            path = unquote(m.group(1))
            if path and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//", path):
                base = "" if path.startswith("/") or page is None else str(page.src.parent)
                joined = posixpath.normpath(posixpath.join(base, path.lstrip("/")))
                if joined in renames:  # a link to `00_data.ipynb` goes to the page built from it
                    href = "/" + renames[joined] + m.group(2)
            return super().resolve(href, page, record)

    site = NbdevSite(load(stage), quiet=True)
    site.out = out
    site.build()
    return site


# ----------------------------------------------------------------------------------------------- code lines

_PRE_CODE = re.compile(r"(<pre\b[^>]*>\s*<code\b[^>]*>)(.*?)(</code>\s*</pre>)", re.S)
_TAG = re.compile(r"(<[^>]+>)")


def hang_lines(code: str) -> str:  # the inside of a <code>, each line in a <span class="cl"> that knows its indent
    """Put each line of a code block in a span of its own, closing and reopening the highlighter's spans at the
    line's ends, with its indentation in `--i`: styles.css makes a line that wraps at the column's edge continue
    four characters right of where the line starts (a hanging indent), as Quarto's wrapped code does."""
    lines, cur, stack = [], [], []
    for part in _TAG.split(code):
        if not part:
            continue
        if part.startswith("<"):
            if part.startswith("</"):
                if stack:
                    stack.pop()
            elif not part.endswith("/>"):
                stack.append(part)
            cur.append(part)
            continue
        pieces = part.split("\n")
        for i, piece in enumerate(pieces):
            if i:
                cur.append("</span>" * len(stack))
                lines.append("".join(cur))
                cur = list(stack)
            cur.append(piece)
    lines.append("".join(cur))
    out = []
    for line in lines:
        text = html.unescape(_TAG.sub("", line))
        indent = len(text) - len(text.lstrip(" "))
        out.append(f'<span class="cl" style="--i:{indent}">{line}</span>')
    return "\n".join(out)


def hang_code(out: Path) -> int:  # how many code blocks were changed
    "Give every code and output block of every page its lines as spans, for the hanging indent of wrapped lines."
    n = 0
    for f in sorted(out.rglob("*.html")):
        page = f.read_text(encoding="utf-8")
        new, k = _PRE_CODE.subn(lambda m: m.group(1) + hang_lines(m.group(2)) + m.group(3), page)
        if k:
            f.write_text(new, encoding="utf-8")
            n += k
    return n


# ----------------------------------------------------------------------------------------------- link check


class _Refs(html.parser.HTMLParser):
    "Collect the ids of a page and every URL it links to or loads."

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str, str, str]] = []  # (tag, attribute, value, rel)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ("id",):
            if a.get(k):
                self.ids.add(a[k])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        for attr in ("href", "src"):
            if a.get(attr) is not None and tag in ("a", "img", "script", "link", "iframe", "source", "video", "audio", "embed"):
                self.refs.append((tag, attr, a[attr], (a.get("rel") or "").lower()))


_CSS_IMPORT = re.compile(r"""@import\s+(?:url\(\s*["']?(?:https?:)?//[^)]*\)|["'](?:https?:)?//[^"']*["'])[^;{}]*;""")
_CSS_REMOTE = re.compile(r"url\(\s*[\"']?((?:https?:)?//[^)\"']*)")


def offline_css(out: Path) -> list[str]:  # what was removed: one line for each stylesheet import
    "Drop `@import`s of other hosts' stylesheets (the theme's web font); the page falls back to the reader's fonts."
    dropped = []
    for f in sorted(out.rglob("*.css")):
        css = f.read_text(encoding="utf-8")
        found = _CSS_IMPORT.findall(css)
        if found:
            f.write_text(_CSS_IMPORT.sub("", css), encoding="utf-8")
            dropped += [f"{f.relative_to(out).as_posix()}: {imp[:90]}" for imp in found]
    return dropped


def check_site(
    out: Path,  # the built site
    forbidden_hosts: tuple[str, ...],  # the published site's URLs, which pages must not link to
    sources: dict[str, str] | None = None,  # page -> the notebook it comes from, for the messages
) -> list[str]:  # one line for each problem
    "Check every link and resource of every page of the built site."
    pages: dict[Path, _Refs] = {}
    for f in sorted(out.rglob("*.html")):
        p = _Refs()
        p.feed(f.read_text(encoding="utf-8"))
        pages[f.resolve()] = p
    problems = []
    for f, p in pages.items():
        where = f.relative_to(out.resolve()).as_posix()
        if sources and where in sources:
            where = f"{where} (from {sources[where]})"
        for tag, attr, value, rel in p.refs:
            v = value.strip()
            if not v or v.startswith(("data:", "mailto:", "javascript:", "tel:")):
                continue
            parts = urlsplit(v)
            if parts.scheme or v.startswith("//"):
                own = any(v.startswith(h) for h in forbidden_hosts)
                # canonical / og metadata may name the published site; everything a reader follows or loads may not
                if own and not (tag == "link" and rel in ("canonical", "alternate")):
                    problems.append(f"{where}: {tag} {attr}={v!r} points at the documentation host; write a relative link")
                elif tag != "a" and not (tag == "link" and rel in ("canonical", "alternate", "preconnect", "dns-prefetch")):
                    problems.append(f"{where}: {tag} {attr}={v!r} loads from another host; the site must work offline")
                continue
            if v.startswith("/"):
                problems.append(f"{where}: {tag} {attr}={v!r} is absolute; write it relative, so the site works under any base URL")
                continue
            path = unquote(parts.path)
            target = f if not path else (f.parent / path).resolve()
            if path.endswith("/") or target.is_dir():
                target = target / "index.html"
            if out.resolve() not in target.parents:
                problems.append(f"{where}: {tag} {attr}={v!r} leaves the site")
                continue
            if not target.is_file():
                problems.append(f"{where}: {tag} {attr}={v!r}: no such file")
                continue
            frag = unquote(parts.fragment)
            if frag and target.suffix == ".html" and target in pages and frag not in pages[target].ids:
                problems.append(f"{where}: {tag} {attr}={v!r}: no #{frag} on {target.relative_to(out.resolve()).as_posix()}")
    for f in sorted(out.rglob("*.css")):
        for url in _CSS_REMOTE.findall(f.read_text(encoding="utf-8")):
            problems.append(f"{f.relative_to(out).as_posix()}: loads {url} from another host; the site must work offline")
    search = out / "search.json"
    if search.exists():
        for e in json.loads(search.read_text(encoding="utf-8")):
            target = out / urlsplit(e["href"]).path
            if not target.is_file():
                problems.append(f"search.json: {e['href']!r}: no such page")
    return problems


# ----------------------------------------------------------------------------------------------- main


def build(out: Path, stage: Path, workers: int, quiet: bool = False) -> int:  # the exit code
    "Process, stage, render and check; print what was done and how long each step took."
    from nbdev.config import get_config

    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    t0 = time.perf_counter()
    os.chdir(ROOT)
    cfg = get_config()
    nbs = cfg.nbs_path
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    copy_other_files(nbs, stage)
    srcs = notebooks(nbs)
    if not srcs:
        print(f"no notebooks in {nbs}", file=sys.stderr)
        return 1

    # 1. process the notebooks, in parallel
    jobs = [(str(s), str(stage)) for s in srcs]
    workers = max(1, min(workers, len(jobs)))
    try:
        if workers == 1:
            results = list(map(process_notebook, jobs))
        else:
            with multiprocessing.get_context("fork" if os.name == "posix" else "spawn").Pool(workers) as pool:
                results = pool.map(process_notebook, jobs, chunksize=1)
    except Exception as e:  # a show_doc that fails: say which notebook
        print(f"processing the notebooks failed: {e}", file=sys.stderr)
        return 1
    staged = [Path(d) for _, d, _ in results]
    seen: dict[Path, str] = {}
    for s, d, _ in results:
        if Path(d) in seen:
            print(f"{s} and {seen[Path(d)]} both become {Path(d).stem}.html", file=sys.stderr)
            return 1
        seen[Path(d)] = s
    renames = {Path(s).relative_to(nbs).as_posix(): Path(d).relative_to(stage).as_posix() for s, d, _ in results}
    for src, _, note in results:
        if note:
            say(f"note: {note}")
        cells = json.loads(Path(src).read_text(encoding="utf-8")).get("cells", [])
        code = [c for c in cells if c.get("cell_type") == "code"]
        if len(code) > 3 and not any(c.get("outputs") for c in code):
            say(f"note: {Path(src).relative_to(nbs)} has no saved outputs: its page shows code without results or pictures")
        if bare := nbpages.pictures_without_alt({"cells": cells}):
            say(f"note: {Path(src).relative_to(nbs)}: {bare} picture(s) from cells without `#| fig-alt:`, shown with no alt text")
    link_staged(staged, stage, cfg)
    write_sidebar(stage, nbs)
    t1 = time.perf_counter()
    say(f"processed {len(results)} notebooks in {t1 - t0:.1f}s ({workers} workers): "
        + ", ".join(f"{Path(s).name}→{Path(d).stem}.html" for s, d, _ in results))

    # 2. render
    site = render(stage, out, renames)
    (out / ".nojekyll").touch()
    hang_code(out)
    for d in offline_css(out):
        say(f"offline: removed {d}")
    t2 = time.perf_counter()
    say(f"rendered {len(site.pages)} pages into {os.path.relpath(out)} in {t2 - t1:.1f}s")
    for w in site.warnings:
        if not HARMLESS.match(w) and "broken link" not in w:
            say(f"note: {w}")

    # 3. check
    staged_to_notebook = {v: k for k, v in renames.items()}
    problems = [f"{staged_to_notebook.get(src, src)}: broken link {href}" for src, href in site.broken]
    pages_from = {Path(v).with_suffix(".html").as_posix(): k for k, v in renames.items()}
    problems += check_site(out, tuple(_site_prefixes()), pages_from)
    t3 = time.perf_counter()
    if problems:
        print(f"{len(problems)} broken or non-local link(s):", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    say(f"checked links of {len(list(out.rglob('*.html')))} pages in {t3 - t2:.1f}s; all local and resolved")
    say(f"site built in {t3 - t0:.1f}s: open {os.path.relpath(out / 'index.html')}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=None, help="where the site goes (default: nbdev's doc_path, _docs)")
    p.add_argument("--stage", type=Path, default=ROOT / "build" / "docs_src", help="where the processed notebooks go")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="processes for the notebooks")
    p.add_argument("--quiet", "-q", action="store_true")
    a = p.parse_args(argv)
    os.chdir(ROOT)
    from nbdev.config import get_config

    out = (a.out or get_config().doc_path).resolve()
    return build(out, a.stage.resolve(), a.workers, a.quiet)


if __name__ == "__main__":
    # Run as the module `build_docs`, not `__main__`: IPython, which nbdev imports, replaces `sys.modules["__main__"]`,
    # and the worker processes must find `process_notebook` by its module's name.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import build_docs

    sys.exit(build_docs.main())
