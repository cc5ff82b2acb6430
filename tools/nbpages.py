"""The notebooks of `nbs/` as pages of the website: their names, front matter, `#|` directives, order and grouping.

One small module, read by the docs builder (`tools/build_docs.py`), the README generator (`tools/make_readme.py`)
and the browser tests (`tests/browser/sitespec.py`), so that all three agree on what a notebook's page is called
and where it sits in the sidebar. It imports neither nbdev nor the library: plain JSON and YAML.

    from nbpages import pages, front_matter, directives, html_name
    for p in pages(): print(p.number, p.group, p.html, p.title)

The rules, as nbdev and Quarto apply them:

- a notebook's page is its front matter's `output-file`, else its file name without the numeric prefix nbdev drops
  (`04a_bounds.ipynb` -> `bounds.html`); files and folders starting with `_` or `.` are not pages;
- front matter is a `---` YAML block in the first cell, or nbdev's Markdown form (`# title` then `> description`);
- the sidebar lists `index` first, as "Home", then the lessons in file-name order, numbered from 1 and grouped:
  the notebooks numbered below `USING_FROM` build the algorithm ("Building it"), the rest use it ("Using it").
  The home page (`nbs/index.ipynb`) lists the lessons under the same two headings, with the same numbers.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / "nbs"
BUILDING, USING, HOME = "Building it", "Using it", "Home"
USING_FROM = 8  # notebooks 00..07 (04a too) build K-Means; 08 and later use it
_PREFIX = re.compile(r"^\d+[a-zA-Z0-9]*_")  # nbdev's numeric prefix: `00_`, `04a_`
_FM_YAML = re.compile(r"^\s*---\s*\n(.*?)\n---\s*(?:\n(.*))?$", re.S)


def text(v) -> str:  # a notebook string, which may be stored as a list of lines
    return "".join(v) if isinstance(v, list) else (v or "")


def read_nb(path: Path | str) -> dict:
    "A notebook as plain JSON."
    return json.loads(Path(path).read_text(encoding="utf-8"))


def directives(src: str) -> tuple[dict, str]:  # the cell's `#| key: value` options, and its code without them
    "Split a code cell into its leading `#| key: value` lines (a dict; a bare `#| key` maps to '') and the rest."
    import yaml

    lines, opts, block = text(src).split("\n"), {}, []
    while lines and lines[0].startswith("#|"):
        line = lines.pop(0)[2:].strip()
        k, sep, v = line.partition(":")
        if sep:
            block.append(line)
        elif k.strip():
            opts[k.strip().split()[0]] = ""  # nbdev's bare flags (`#| export`, `#| hide`) are not YAML keys
    try:  # read the `key: value` lines as Quarto and smalldocs do: as YAML, so a value they cannot read counts as absent
        parsed = yaml.safe_load("\n".join(block)) if block else {}
    except yaml.YAMLError:
        parsed = {}
    if isinstance(parsed, dict):
        opts.update({str(k): "" if v is None else str(v).lower() if isinstance(v, bool) else str(v) for k, v in parsed.items()})
    return opts, "\n".join(lines).strip("\n")


def split_front_matter(md: str, yaml_only: bool = False) -> tuple[dict, str]:  # the front matter, and what follows
    """Read Quarto's `---` YAML block, or (unless `yaml_only`) nbdev's `# title` and `> description`, from the start
    of a notebook's first cell."""
    import yaml

    md = text(md)
    m = _FM_YAML.match(md)
    if m:
        try:
            fm = yaml.safe_load(m.group(1))
        except yaml.YAMLError:
            fm = None
        return (fm if isinstance(fm, dict) else {}), (m.group(2) or "")
    m = None if yaml_only else re.match(r"^\s*#[ \t]+([^\n]+?)[ \t]*(?:\n|$)(?:\s*>[ \t]*([^\n]+?)[ \t]*(?:\n|$))?(.*)$", md, re.S)
    if m:
        fm = {"title": m.group(1)}
        if m.group(2):
            fm["description"] = m.group(2)
        return fm, m.group(3) or ""
    return {}, md


def front_matter(nb: dict) -> dict:
    "The front matter of a notebook (as JSON or as fastcore's `AttrDict`): its first cell's, else empty."
    cells = nb.get("cells") or []
    return split_front_matter(cells[0].get("source", ""))[0] if cells else {}


def html_name(nb_path: Path | str, fm: dict | None = None) -> str:  # the page's file name, such as `bounds.html`
    "The page a notebook becomes: its `output-file`, else its name without nbdev's numeric prefix."
    p = Path(nb_path)
    if fm and fm.get("output-file"):
        return Path(str(fm["output-file"])).with_suffix(".html").name
    return _PREFIX.sub("", p.name.lower()).removesuffix(".ipynb") + ".html"


def is_index(nb_path: Path | str) -> bool:
    return _PREFIX.sub("", Path(nb_path).stem) == "index"


def group(nb_path: Path | str) -> str:  # "Home", "Building it" or "Using it"
    "Where a notebook sits in the sidebar and in the home page's list of lessons."
    if is_index(nb_path):
        return HOME
    m = re.match(r"^(\d+)", Path(nb_path).name)
    return USING if m and int(m.group(1)) >= USING_FROM else BUILDING


def notebooks(nbs: Path = NBS) -> list[Path]:  # every page's notebook, in sidebar order
    "The notebooks that are pages (none in `_` or `.` files or folders): index first, then by path and file name."
    found = [p for p in nbs.rglob("*.ipynb") if not any(s.startswith((".", "_")) for s in p.relative_to(nbs).parts)
             and ".ipynb_checkpoints" not in p.parts]
    return sorted(found, key=lambda p: (p.relative_to(nbs).parent.parts, not is_index(p), p.name))


@dataclass(frozen=True)
class NbPage:
    "One notebook as a page of the site."

    notebook: str  # path under nbs/, such as `04a_bounds.ipynb`
    html: str  # the page, under the site's root, such as `bounds.html`
    title: str
    description: str
    group: str  # HOME, BUILDING or USING
    number: int  # the lesson's number in the sidebar and on the home page, from 1; 0 for the home page

    @property
    def label(self) -> str:  # the sidebar's text: "6. Skipping work with bounds", or "Home"
        return f"{self.number}. {self.title}" if self.number else HOME


def pages(nbs: Path = NBS) -> list[NbPage]:
    "Every page, in sidebar order, numbered and grouped."
    out, n = [], 0
    for p in notebooks(nbs):
        rel = p.relative_to(nbs)
        fm = front_matter(read_nb(p))
        g = group(rel)
        if g != HOME:
            n += 1
        out.append(NbPage(rel.as_posix(), (rel.parent / html_name(rel, fm)).as_posix(), str(fm.get("title") or rel.stem),
                          str(fm.get("description") or ""), g, 0 if g == HOME else n))
    return out


def sidebar(ps: list[NbPage], href=lambda p: p.html) -> list:  # the `contents:` of Quarto's `website.sidebar`
    "Home, then a section for each group of lessons, each lesson as `N. Title`."
    contents: list = []
    sections: dict[str, list] = {}
    for p in ps:
        item = {"href": href(p), "text": p.label}
        if p.group == HOME:
            contents.append(item)
        else:
            if p.group not in sections:
                sections[p.group] = []
                contents.append({"section": p.group, "contents": sections[p.group]})
            sections[p.group].append(item)
    return contents


IMAGE_MIMES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")
REMOVED_DIRECTIVES = {"export", "exports", "exporti", "hide", "default_exp"}  # cells nbdev drops from the page


def picture_cells(nb: dict) -> list[tuple[dict, int]]:  # (the cell's directives, how many pictures it shows)
    "The code cells whose saved pictures the page shows, with their `#|` directives (`fig-alt` gives the alt text)."
    out = []
    for c in nb.get("cells", []):
        if c.get("cell_type") != "code":
            continue
        d = directives(c.get("source", ""))[0]
        if d.keys() & REMOVED_DIRECTIVES or d.get("include") == "false" or d.get("output") == "false":
            continue
        if set((c.get("metadata") or {}).get("tags") or []) & {"remove-cell", "remove-output"}:
            continue
        n = sum(any(m in (o.get("data") or {}) for m in IMAGE_MIMES) for o in c.get("outputs", []))
        if n:
            out.append((d, n))
    return out


def pictures_without_alt(nb: dict) -> int:
    "How many pictures the page shows from cells with no `#| fig-alt:` sentence, which it shows with no alt text."
    return sum(n for d, n in picture_cells(nb) if not d.get("fig-alt", "").strip())


def readme_lessons(nb: dict) -> list[tuple[str, int, str]]:  # (group, number, page) of each lesson the home page lists
    """The home page's list of lessons: numbered Markdown links to pages (`7. [Training](training.html): ...`) under a
    line naming their group ("Building it:" or "Using it:")."""
    out, current = [], ""
    for c in nb.get("cells", []):
        if c.get("cell_type") != "markdown":
            continue
        for line in text(c.get("source")).splitlines():
            g = re.match(rf"^\s*\**({BUILDING}|{USING})\**\s*:?\**\s*$", line, re.I)
            if g:
                current = BUILDING if g.group(1).lower() == BUILDING.lower() else USING
                continue
            m = re.match(r"^\s*(\d+)\.\s+\[[^\]]*\]\(([^)#\s]+\.html)[^)]*\)", line)
            if m and current:
                out.append((current, int(m.group(1)), m.group(2)))
    return out
