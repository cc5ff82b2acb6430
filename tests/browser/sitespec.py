"What the website must hold, read from the notebooks themselves (not from the built site), for the browser tests."

import ast
import json
import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
NBS = ROOT / "nbs"
# The viewports the tests use, and where screenshots go
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(os.environ.get("KMEANS_SCREENSHOTS", ROOT / "build" / "screenshots"))
# Served below a sub-path, as GitHub Pages serves a project site: a link written from `/` would break here.
BASE_PATH = "/kmeans_scratch/"
IMAGE_MIMES = ("image/png", "image/jpeg", "image/gif")
SHOWN_DIRECTIVES = {"export", "exports", "exec_doc"}  # nbdev adds a show_doc after each definition in these cells
REMOVED_DIRECTIVES = {"export", "exporti", "hide", "default_exp"}  # nbdev drops these cells from the page


@dataclass
class Page:
    "One page of the site, as its notebook says it should be."

    notebook: str  # path under nbs/, such as `01_distance.ipynb`
    html: str  # the page, such as `distance.html`
    title: str  # its title
    pictures: int  # pictures saved in cells that the page shows
    api: list[str] = field(default_factory=list)  # public functions and classes that get a signature on the page


def _source(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _directives(src: str) -> dict:
    "The `#| key: value` lines at the top of a code cell."
    out = {}
    for line in src.splitlines():
        if not line.startswith("#|"):
            break
        k, _, v = line[2:].strip().partition(":")
        if k.strip():
            out[k.strip().split()[0]] = v.strip()
    return out


def _front_matter(nb) -> dict:
    cells = nb.get("cells", [])
    if not cells:
        return {}
    src = _source(cells[0])
    m = re.match(r"^\s*---\s*\n(.*?)\n---\s*$", src, re.S)
    if m:
        return yaml.safe_load(m.group(1)) or {}
    m = re.match(r"^\s*#\s+(.+?)\s*$", src.splitlines()[0] if src else "")  # nbdev's `# title` / `> description`
    return {"title": m.group(1)} if m else {}


def _api(nb) -> list[str]:
    "Public top-level functions and classes of exported cells: the ones nbdev gives a `show_doc` signature."
    names = []
    for c in nb.get("cells", []):
        if c.get("cell_type") != "code":
            continue
        d = _directives(_source(c))
        if not (d.keys() & SHOWN_DIRECTIVES) or "hide" in d or d.get("include") == "false":
            continue
        try:
            tree = ast.parse(_source(c))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                if any("patch" in ast.unparse(dec) for dec in getattr(node, "decorator_list", [])):
                    continue  # a patched method is documented under its class's name
                names.append(node.name)
    return names


def _pictures(nb) -> int:
    n = 0
    for c in nb.get("cells", []):
        if c.get("cell_type") != "code":
            continue
        d = _directives(_source(c))
        if d.keys() & REMOVED_DIRECTIVES or d.get("include") == "false" or d.get("output") == "false":
            continue
        tags = set((c.get("metadata") or {}).get("tags") or [])
        if tags & {"remove-cell", "remove-output"}:
            continue
        n += sum(any(m in (o.get("data") or {}) for m in IMAGE_MIMES) for o in c.get("outputs", []))
    return n


def _html_name(nb_path: Path, fm: dict) -> str:
    if fm.get("output-file"):
        return Path(fm["output-file"]).with_suffix(".html").name
    return re.sub(r"^\d+[a-zA-Z0-9]*_", "", nb_path.name.lower())[: -len(".ipynb")] + ".html"


@cache
def pages() -> tuple[Page, ...]:  # every page, in the order the sidebar must list them: index, then by file name
    "The site's pages, from the notebooks in nbs/ (not those in `_` or `.` folders or files)."
    found = []
    for p in NBS.rglob("*.ipynb"):
        rel = p.relative_to(NBS)
        if any(part.startswith((".", "_")) for part in rel.parts):
            continue
        nb = json.loads(p.read_text(encoding="utf-8"))
        fm = _front_matter(nb)
        html = (rel.parent / _html_name(p, fm)).as_posix()
        found.append(Page(rel.as_posix(), html, str(fm.get("title") or rel.stem), _pictures(nb), _api(nb)))
    return tuple(sorted(found, key=lambda pg: (Path(pg.notebook).parent.parts, Path(pg.notebook).stem != "index", pg.notebook)))


def page(html: str) -> Page:
    return next(p for p in pages() if p.html == html)


@cache
def doc_hosts() -> tuple[str, ...]:  # the host of the published site, which pages must never link to
    "Read the published site's host from nbs/nbdev.yml (`website.site-url`)."
    cfg = NBS / "nbdev.yml"
    url = ((yaml.safe_load(cfg.read_text()) or {}).get("website") or {}).get("site-url", "") if cfg.exists() else ""
    host = re.sub(r"^[a-z]+://", "", url).split("/")[0]
    return (host,) if host else ()
