"""The site tools without a browser: the link check of tools/build_docs.py fails on what it must fail on, backtick
names link only to entries that exist, and tools/make_readme.py turns the home notebook into GitHub Markdown."""

import base64
import sys
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[2] / "tools"
sys.path.insert(0, str(TOOLS))
build_docs = pytest.importorskip("build_docs")
make_readme = pytest.importorskip("make_readme")

HOST = "https://example.github.io/proj"


def _site(tmp_path: Path, pages: dict[str, str]) -> Path:
    out = tmp_path / "_docs"
    for name, body in pages.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(f"<!doctype html><html><body>{body}</body></html>")
    return out


def test_link_check_passes_a_good_site(tmp_path):
    out = _site(tmp_path, {
        "index.html": '<a href="data.html#gen">x</a><a href="sub/">y</a><a href="https://github.com/x">z</a><a href="#top">t</a><p id="top"></p>',
        "data.html": '<h3 id="gen">gen</h3><img src="pic.png"><a href="index.html">home</a>',
        "sub/index.html": '<a href="../data.html">up</a>',
        "pic.png": "",
    })
    assert build_docs.check_site(out, (HOST,)) == []


@pytest.mark.parametrize("body, expected", [
    ('<a href="nope.html">x</a>', "no such file"),
    ('<a href="index.html#nope">x</a>', "no #nope"),
    ('<a href="/index.html">x</a>', "is absolute"),
    (f'<a href="{HOST}/index.html">x</a>', "documentation host"),
    ('<img src="https://cdn.example.com/a.png">', "another host"),
    ('<script src="//cdn.example.com/a.js"></script>', "another host"),
    ('<a href="../../etc/passwd">x</a>', "leaves the site"),
])
def test_link_check_fails_on(tmp_path, body, expected):
    out = _site(tmp_path, {"index.html": body})
    problems = build_docs.check_site(out, (HOST,))
    assert problems and expected in problems[0], problems


def test_link_check_reads_stylesheets(tmp_path):
    out = _site(tmp_path, {"index.html": ""})
    (out / "a.css").write_text("@import url(https://fonts.example.com/css2?family=X:wght@300;400&display=swap);body{color:red}")
    assert build_docs.offline_css(out), "the remote import is removed"
    assert (out / "a.css").read_text() == "body{color:red}"
    (out / "b.css").write_text("body{background:url(https://example.com/bg.png)}")
    assert any("another host" in p for p in build_docs.check_site(out, (HOST,)))


def test_backtick_names_link_only_to_entries_that_exist():
    symbols = {"KMeans": "training.html#kmeans", "KMeans.fit": "training.html#kmeans.fit", "helper": "util.html#helper"}
    anchors = {"training.html": {"kmeans"}, "util.html": set()}
    md = "Use `KMeans`, `KMeans.fit()`, `helper` and `other`.\n```python\n`KMeans`\n```\n"
    out = build_docs.link_symbols(md, symbols, anchors)
    assert "[`KMeans`](/training.html#kmeans)" in out
    assert "[`KMeans.fit()`](/training.html#kmeans)" in out, "a method with no entry links to its class"
    assert "`helper`" in out and "util.html" not in out, "no entry, no link"
    assert "```python\n`KMeans`\n```" in out, "code blocks are left alone"


def test_readme_from_a_notebook():
    png = base64.b64encode(b"\x89PNG fake").decode()
    nb = {"cells": [
        {"cell_type": "markdown", "source": "# proj\n\n> What it is."},
        {"cell_type": "code", "source": "#| default_exp core", "outputs": []},
        {"cell_type": "code", "source": "#| export\ndef f(): pass", "outputs": []},
        {"cell_type": "markdown", "source": "See [the data](data.html) and [the licence](LICENSE)."},
        {"cell_type": "code", "source": "#| fig-alt: a fit\nplot()", "outputs": [
            {"output_type": "stream", "name": "stdout", "text": ["done\n"]},
            {"output_type": "display_data", "data": {"image/png": png, "text/plain": "<Figure>"}}]},
    ]}
    md, pics = make_readme.render(nb, "https://example.github.io/proj/")
    assert md.splitlines()[2:5] == ["# proj", "", "> What it is."]
    assert "def f" not in md and "default_exp" not in md, "exported and directive cells are left out"
    assert "[the data](https://example.github.io/proj/data.html)" in md and "[the licence](LICENSE)" in md
    assert "```python\nplot()\n```" in md and "```\ndone\n```" in md
    assert "![a fit](readme_files/index-1.png)" in md and pics == {"readme_files/index-1.png": b"\x89PNG fake"}
