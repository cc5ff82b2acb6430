"What the website must hold, read from the notebooks themselves (not from the built site), for the browser tests."

import ast
import os
import re
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import nbpages  # noqa: E402  the notebooks' page names, front matter, order and groups, shared with the site tools

NBS = ROOT / "nbs"
# The viewports the tests use, and where screenshots go
DESKTOP = {"width": 1280, "height": 900}
WIDE = {"width": 1400, "height": 900}  # the width the issue measures sideways scrolling at
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(os.environ.get("KMEANS_SCREENSHOTS", ROOT / "build" / "screenshots"))
# Served below a sub-path, as GitHub Pages serves a project site: a link written from `/` would break here.
BASE_PATH = "/kmeans_scratch/"
SHOWN_DIRECTIVES = {"export", "exports", "exec_doc"}  # nbdev adds a show_doc after each definition in these cells


@dataclass
class Page:
    "One page of the site, as its notebook says it should be."

    notebook: str  # path under nbs/, such as `01_distance.ipynb`
    html: str  # the page, such as `distance.html`
    title: str  # its title
    pictures: int  # pictures saved in cells that the page shows
    api: list[str] = field(default_factory=list)  # public top-level functions and classes that get an API entry
    entries: list = field(default_factory=list)  # every `Entry` the page must show, patched methods too
    group: str = ""  # "Home", "Building it" or "Using it"
    number: int = 0  # the lesson's number in the sidebar; 0 for the home page
    label: str = ""  # the sidebar's text for it: "7. Training"
    alt_missing: int = 0  # pictures the page shows from cells with no `#| fig-alt:` directive


def _source(cell) -> str:
    return nbpages.text(cell.get("source", ""))


def _directives(src: str) -> dict:
    "The `#| key: value` lines at the top of a code cell."
    return nbpages.directives(src)[0]


@dataclass
class Entry:
    "An API entry that nbdev's `show_doc` gives the page, as the notebook's source defines it."

    name: str  # `KMeans`, or `KMeans.fit` for a method patched in
    kind: str  # "class" or "def"
    params: list[tuple[str, str | None]]  # each parameter shown (no `self`), with its annotation as written, or None
    own_init: bool = True  # a class with an `__init__` (or a dataclass's fields) of its own, whose parameters it shows

    @property
    def anchor(self) -> str:  # nbdev's anchor for it, as in `_modidx.py`
        return self.name.lower()


def _fields(node: ast.ClassDef) -> tuple[list[tuple[str, str | None]], bool]:  # a class's parameters, and whether it has its own
    init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
    if init is not None:
        return _args(init)[1:], True
    # annotated fields are constructor parameters only in a dataclass or a NamedTuple, not in a plain class's attributes
    makes_init = any("dataclass" in ast.unparse(d) for d in node.decorator_list) or any("NamedTuple" in ast.unparse(b) for b in node.bases)
    fields = [(st.target.id, ast.unparse(st.annotation)) for st in node.body
              if makes_init and isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name)]
    return fields, bool(fields)


def _args(fn) -> list[tuple[str, str | None]]:
    a = fn.args
    out = [(x.arg, ast.unparse(x.annotation) if x.annotation else None) for x in [*a.posonlyargs, *a.args]]
    if a.vararg:
        out.append((a.vararg.arg, ast.unparse(a.vararg.annotation) if a.vararg.annotation else None))
    out += [(x.arg, ast.unparse(x.annotation) if x.annotation else None) for x in a.kwonlyargs]
    if a.kwarg:
        out.append((a.kwarg.arg, ast.unparse(a.kwarg.annotation) if a.kwarg.annotation else None))
    return out


def _entries(nb) -> list[Entry]:
    """Public top-level functions and classes of exported cells, and public methods patched into a class: the ones
    nbdev gives a `show_doc` entry."""
    out = []
    for c in nb.get("cells", []):
        if c.get("cell_type") != "code":
            continue
        d = _directives(_source(c))
        if not (d.keys() & SHOWN_DIRECTIVES) or "hide" in d or d.get("include") == "false":
            continue
        try:
            tree = ast.parse(nbpages.directives(_source(c))[1])
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                params, own = _fields(node)
                out.append(Entry(node.name, "class", params, own))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = _args(node)
                if any("patch" in ast.unparse(dec) for dec in node.decorator_list):
                    owner = args[0][1] if args and args[0][1] else None
                    if owner and re.fullmatch(r"\w+", owner) and not node.name.startswith("_"):
                        out.append(Entry(f"{owner}.{node.name}", "def", args[1:]))
                elif not node.name.startswith("_"):
                    out.append(Entry(node.name, "def", args))
    return out


def _pictures(nb) -> int:
    "Pictures saved in the cells the page shows."
    return sum(n for _, n in nbpages.picture_cells(nb))


@cache
def pages() -> tuple[Page, ...]:  # every page, in the order the sidebar must list them: index, then by file name
    "The site's pages, from the notebooks in nbs/ (not those in `_` or `.` folders or files), as `tools/nbpages.py` names them."
    out = []
    for p in nbpages.pages(NBS):
        nb = nbpages.read_nb(NBS / p.notebook)
        entries = _entries(nb)
        out.append(Page(p.notebook, p.html, p.title, _pictures(nb), [e.name for e in entries if "." not in e.name], entries,
                        p.group, p.number, p.label, nbpages.pictures_without_alt(nb)))
    return tuple(out)


def page(html: str) -> Page:
    return next(p for p in pages() if p.html == html)


@cache
def doc_hosts() -> tuple[str, ...]:  # the host of the published site, which pages must never link to
    "Read the published site's host from nbs/nbdev.yml (`website.site-url`)."
    cfg = NBS / "nbdev.yml"
    url = ((yaml.safe_load(cfg.read_text()) or {}).get("website") or {}).get("site-url", "") if cfg.exists() else ""
    host = re.sub(r"^[a-z]+://", "", url).split("/")[0]
    return (host,) if host else ()
