#!/usr/bin/env python
"""Write README.md from nbs/index.ipynb, or check that README.md is what the notebook gives.

    python tools/make_readme.py           # write README.md and the pictures it shows (readme_files/)
    python tools/make_readme.py --check   # exit 1, with a diff, if README.md or a picture is out of date

The README is the home page of the website in GitHub Markdown, from the notebook's saved outputs (nothing runs):
the prose; the code a reader types (cells that are exported, hidden or `#| echo: false` are left out); printed
output; and each saved picture, written to `readme_files/` beside the README and shown from there. Links to
other pages of the site (`data.html`) become links to the published site, since the README is read on GitHub
and PyPI, where those pages are not. Quarto is not needed; `nbdev-readme` is, in nbdev 3, a call to Quarto.
"""

import argparse
import base64
import difflib
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import nbpages  # noqa: E402  notebook names, front matter and directives, shared with the docs builder and the tests

ROOT = Path(__file__).resolve().parents[1]
PICTURES = "readme_files"  # beside README.md; committed with it
HIDE = {"export", "exports", "exporti", "hide", "default_exp"}  # cells a README reader does not type
IMAGES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/svg+xml": "svg"}


def config() -> dict:  # `site` (the published docs URL, ending in /), `nb` (the README notebook), `title`
    "Read what the README needs from pyproject.toml's [tool.nbdev] and nbs/nbdev.yml, without importing nbdev."
    import tomllib

    import yaml

    py = tomllib.loads((ROOT / "pyproject.toml").read_text())
    nbdev = py.get("tool", {}).get("nbdev", {})
    nbs = ROOT / nbdev.get("nbs_path", "nbs")
    site = ""
    if (nbs / "nbdev.yml").exists():
        site = ((yaml.safe_load((nbs / "nbdev.yml").read_text()) or {}).get("website") or {}).get("site-url") or ""
    site = site or py.get("project", {}).get("urls", {}).get("Documentation", "")
    return {"site": site.rstrip("/") + "/" if site else "", "nb": nbs / nbdev.get("readme_nb", "index.ipynb")}


text, directives = nbpages.text, nbpages.directives  # a notebook string; a code cell's `#|` options and its code


def hidden(opts: dict) -> bool:  # whether the README leaves the cell out
    return bool(set(opts) & HIDE) or opts.get("include") == "false" or opts.get("eval") == "false"


def front_matter(md: str) -> str:  # the first cell, as Markdown: YAML front matter becomes a title and a quote
    "Turn Quarto front matter (`---` title / description) into the `# title` and `> description` nbdev writes."
    fm, rest = nbpages.split_front_matter(md, yaml_only=True)
    if not fm:
        return md
    head = [f"# {fm['title']}"] if fm.get("title") else []
    if fm.get("description"):
        head.append(f"> {fm['description']}")
    return "\n\n".join(head + ([rest.strip()] if rest.strip() else []))


def absolute_links(md: str, site: str) -> str:  # the Markdown, with links to the site's pages made absolute
    "Point links to other pages of the site (`data.html`, `00_data.ipynb`) at the published site."
    if not site:
        return md

    def fix(m: re.Match) -> str:
        url = m.group(2)
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^#|^/", url):
            return m.group(0)
        path, sep, frag = url.partition("#")
        if path.endswith(".ipynb"):
            path = nbpages.html_name(path)
        if not path.endswith((".html", "/")):
            return m.group(0)  # a file of the repository, such as LICENSE: relative on GitHub too
        return f"{m.group(1)}({site}{path}{sep}{frag})"

    return re.sub(r"(\]\s*)\(([^)\s]+)\)", fix, md)


def fence(body: str, lang: str = "") -> str:
    ticks = "`" * max(3, max((len(t) for t in re.findall(r"`+", body)), default=0) + 1)
    return f"{ticks}{lang}\n{body.rstrip()}\n{ticks}"


def render(nb: dict, site: str, stem: str = "index") -> tuple[str, dict[str, bytes]]:  # the README and its pictures, by path
    "Make the README's Markdown and its pictures from the notebook."
    parts = [f"<!-- This file is generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook, then run "
             f"`python tools/make_readme.py`. -->"]
    pictures: dict[str, bytes] = {}  # named by their order, so that a cell added above one does not rename it
    first = True
    for cell in nb.get("cells", []):
        src = text(cell.get("source"))
        if cell.get("cell_type") == "markdown":
            md = front_matter(src) if first else src
            first = False
            parts.append(absolute_links(md.strip(), site))
            continue
        if cell.get("cell_type") == "raw" and first:
            first = False
            parts.append(front_matter(src))
            continue
        if cell.get("cell_type") != "code":
            continue
        opts, code = directives(src)
        if hidden(opts):
            continue
        if code.strip() and opts.get("echo") != "false":
            parts.append(fence(code, "python"))
        if opts.get("output") == "false":
            continue
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "stream" and out.get("name") == "stdout":
                parts.append(fence(re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text(out.get("text")))))
            elif kind in ("execute_result", "display_data"):
                data = out.get("data", {})
                mime = next((m for m in IMAGES if m in data), None)
                if mime:
                    name = f"{PICTURES}/{stem}-{len(pictures) + 1}.{IMAGES[mime]}"
                    raw = text(data[mime])
                    pictures[name] = raw.encode() if mime == "image/svg+xml" else base64.b64decode(raw)
                    alt = opts.get("fig-alt") or opts.get("fig-cap") or "a plot made by the code above"
                    parts.append(f"![{alt.strip(chr(34)).strip(chr(39))}]({name})")
                elif "text/markdown" in data:
                    parts.append(text(data["text/markdown"]).strip())
                elif "text/plain" in data:
                    parts.append(fence(text(data["text/plain"])))
    return "\n\n".join(p for p in parts if p.strip()) + "\n", pictures


def lesson_list_problems(nb: dict, nbs: Path) -> list[str]:  # one line for each way the lists disagree
    """Compare the home page's numbered list of lessons, under "Building it:" and "Using it:", with the sidebar's
    (`nbpages.pages`): the same pages, in the same order, with the same numbers and groups."""
    listed = nbpages.readme_lessons(nb)
    if not listed:
        return []  # a home page without a list of lessons: nothing to compare
    want = [(p.group, p.number, p.html) for p in nbpages.pages(nbs) if p.number]
    if listed == want:
        return []
    fmt = lambda t: f"{t[1]}. {t[2]} ({t[0]})"  # noqa: E731
    return ["the home page lists the lessons as the sidebar does not (number, page, group):", *difflib.unified_diff(
        [fmt(t) for t in want], [fmt(t) for t in listed], "sidebar (tools/nbpages.py)", "nbs/index.ipynb", lineterm="", n=0)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 if README.md is out of date")
    p.add_argument("--output", type=Path, default=ROOT / "README.md", help="the README to write or check")
    a = p.parse_args(argv)
    cfg = config()
    nb = json.loads(cfg["nb"].read_text(encoding="utf-8"))
    readme, pictures = render(nb, cfg["site"], cfg["nb"].stem)
    lessons = lesson_list_problems(nb, cfg["nb"].parent)
    for line in lessons:
        print(line, file=sys.stderr)
    target = a.output.resolve()
    base = target.parent
    old = target.read_text(encoding="utf-8") if target.exists() else ""
    existing = {f"{PICTURES}/{f.name}": f for f in sorted((base / PICTURES).glob("*"))} if (base / PICTURES).is_dir() else {}
    stale = sorted(set(existing) - set(pictures))
    changed = sorted(n for n, b in pictures.items() if n not in existing or existing[n].read_bytes() != b)
    if a.check:
        ok = old == readme and not stale and not changed and not lessons
        if not (old == readme and not stale and not changed):
            rel = cfg["nb"].relative_to(ROOT)
            print(f"{target.name} is out of date with {rel}: run `python tools/make_readme.py` and commit the result.", file=sys.stderr)
            sys.stderr.writelines(difflib.unified_diff(old.splitlines(True), readme.splitlines(True), "README.md", f"from {rel}"))
            for n in changed:
                print(f"picture {n} differs or is missing", file=sys.stderr)
            for n in stale:
                print(f"picture {n} is no longer used", file=sys.stderr)
        return 0 if ok else 1
    target.write_text(readme, encoding="utf-8")
    for n in stale:
        existing[n].unlink()
    for n in changed:
        (base / n).parent.mkdir(parents=True, exist_ok=True)
        (base / n).write_bytes(pictures[n])
    print(f"wrote {target.name} ({len(readme.splitlines())} lines) and {len(pictures)} picture(s) in {PICTURES}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
