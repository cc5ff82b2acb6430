"""The site tools without a browser: the link check of tools/build_docs.py fails on what it must fail on, backtick
names link only to entries that exist, and tools/make_readme.py turns the home notebook into GitHub Markdown."""

import base64
import inspect
import json
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


# ---------------------------------------------------------------------------------------------- nbpages


nbpages = pytest.importorskip("nbpages")


def test_page_names_and_groups():
    assert nbpages.html_name("04a_bounds.ipynb") == "bounds.html"
    assert nbpages.html_name("15_guarantees.ipynb", {"output-file": "guarantees.html"}) == "guarantees.html"
    assert nbpages.html_name("05_training.ipynb", {"output-file": "loop"}) == "loop.html"
    assert [nbpages.group(f) for f in ("index.ipynb", "00_data.ipynb", "04a_bounds.ipynb", "07_estimator.ipynb",
                                       "08_visualize.ipynb", "15_guarantees.ipynb")] == \
        ["Home", "Building it", "Building it", "Building it", "Using it", "Using it"]


def test_front_matter_both_forms():
    assert nbpages.split_front_matter("---\ntitle: Data\noutput-file: data.html\n---\n") == \
        ({"title": "Data", "output-file": "data.html"}, "")
    assert nbpages.split_front_matter("# proj\n\n> What it is.\n\nMore.") == ({"title": "proj", "description": "What it is."}, "\nMore.")
    assert nbpages.split_front_matter("# proj\n\n> What it is.", yaml_only=True)[0] == {}
    assert nbpages.directives("#| fig-alt: \"Six blobs\"\n#| echo: false\nplot()") == ({"fig-alt": "Six blobs", "echo": "false"}, "plot()")
    assert "fig-alt" not in nbpages.directives("#| fig-alt: Two plots: left and right\nplot()")[0], "not YAML, so Quarto would drop it too"


def _nbs(tmp_path, names):
    for n in names:
        title = n.split("_", 1)[-1].removesuffix(".ipynb").title()
        src = "# proj\n\n> about" if n == "index.ipynb" else f"---\ntitle: {title}\n---"
        (tmp_path / n).write_text(json.dumps({"cells": [{"cell_type": "markdown", "source": src}]}))
    (tmp_path / "_hidden.ipynb").write_text("{}")
    return tmp_path


def test_sidebar_numbers_and_groups(tmp_path):
    nbs = _nbs(tmp_path, ["00_data.ipynb", "04a_bounds.ipynb", "04_update.ipynb", "08_plot.ipynb", "index.ipynb"])
    ps = nbpages.pages(nbs)
    assert [(p.html, p.number, p.label) for p in ps] == [
        ("index.html", 0, "Home"), ("data.html", 1, "1. Data"), ("update.html", 2, "2. Update"),
        ("bounds.html", 3, "3. Bounds"), ("plot.html", 4, "4. Plot")]
    assert ps[0].title == "proj"
    assert nbpages.sidebar(ps) == [
        {"href": "index.html", "text": "Home"},
        {"section": "Building it", "contents": [{"href": "data.html", "text": "1. Data"}, {"href": "update.html", "text": "2. Update"},
                                                {"href": "bounds.html", "text": "3. Bounds"}]},
        {"section": "Using it", "contents": [{"href": "plot.html", "text": "4. Plot"}]}]


def test_readme_lists_lessons_as_the_sidebar(tmp_path):
    nbs = _nbs(tmp_path, ["00_data.ipynb", "08_plot.ipynb", "index.ipynb"])
    good = {"cells": [{"cell_type": "markdown", "source":
                       "## The lessons\n\nBuilding it:\n\n1. [Data](data.html): blobs.\n\nUsing it:\n\n2. [Plot](plot.html): it."}]}
    assert nbpages.readme_lessons(good) == [("Building it", 1, "data.html"), ("Using it", 2, "plot.html")]
    assert make_readme.lesson_list_problems(good, nbs) == []
    bad = {"cells": [{"cell_type": "markdown", "source": "Building it:\n\n1. [Data](data.html)\n2. [Plot](plot.html)"}]}
    assert make_readme.lesson_list_problems(bad, nbs), "a lesson under the wrong heading is reported"


# ---------------------------------------------------------------------------------------------- API entries

apidoc = pytest.importorskip("apidoc")

_MODULE = '''
from dataclasses import dataclass

class Base: pass

class Model(Base):
    "A model."
    def __init__(self,
                 n:int=8, # how many
                 *, how=None, # which way; None for the usual
                 seed:int|None=None):
        self.n = n
    def __repr__(self): return "Model()"
    def get_params(self, deep=True): return {}
    def __sklearn_tags__(self): return None
    def __call__(self, x:float, /, *rest, **kw) -> "Model": # the same model
        "Call it."
        return self

class Oops(ValueError, AttributeError):
    "Raised when it goes wrong."

@dataclass
class Step:
    "One step."
    i: int  # its number
    label: str | None = None  # its label

def f(a, b:list[int]|None=None, c='auto') -> tuple[int, int]: # a pair
    "Do it."
'''


@pytest.fixture(scope="module")
def api_module(tmp_path_factory):
    import importlib.util

    p = tmp_path_factory.mktemp("mod") / "apimod.py"
    p.write_text(_MODULE)
    spec = importlib.util.spec_from_file_location("apimod", p)
    m = importlib.util.module_from_spec(spec)
    sys.modules["apimod"] = m
    spec.loader.exec_module(m)
    return m


def test_class_entry_reads_as_python(api_module):
    md = apidoc.entry_markdown(api_module.Model)
    assert "### Model {#model}" in md
    assert "```python\nclass Model(n: int = 8, *, how=None, seed: int | None = None)\n```" in md
    assert "| `n` | `int` | `8` | how many |" in md
    assert "| `how` |  | `None` | which way; None for the usual |" in md, "no type guessed from the default"
    assert "| `seed` | `int \\| None` | `None` |  |" in md
    assert "NoneType" not in md and "*A model.*" in md


def test_exception_shows_its_bases(api_module):
    md = apidoc.entry_markdown(api_module.Oops)
    assert "class Oops(ValueError, AttributeError)\n" in md and "| Parameter" not in md


def test_dataclass_and_function(api_module):
    md = apidoc.entry_markdown(api_module.Step)
    assert "class Step(i: int, label: str | None = None)" in md and "| `i` | `int` |  | its number |" in md
    md = apidoc.entry_markdown(api_module.f)
    assert "def f(a, b: list[int] | None = None, c='auto') -> tuple[int, int]" in md
    assert "| `c` |  | `'auto'` |  |" in md and "| **Returns** | `tuple[int, int]` |  | a pair |" in md


def test_dunders_intact_and_plumbing_hidden(api_module):
    md = apidoc.entry_markdown(api_module.Model.__call__)
    assert "### Model.\\_\\_call\\_\\_ {#model.__call__}" in md
    assert "def __call__(x: float, /, *rest, **kw) -> 'Model'" in md.replace('"Model"', "'Model'")
    assert apidoc.entry_markdown(api_module.Model.__sklearn_tags__) == ""
    assert apidoc.entry_markdown(api_module.Model.__repr__) == "", "an estimator's repr is scikit-learn's plumbing"


def test_long_signature_goes_one_parameter_a_line():
    ps = [apidoc.Param(inspect.Parameter(f"parameter_{i}", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=i), (None, None), "")
          for i in range(6)]
    sig = apidoc.format_signature("def", "f", ps, "int")
    assert sig.splitlines()[0] == "def f(" and sig.splitlines()[-1] == ") -> int" and "    parameter_5=5," in sig


def test_search_index_reads_prose_only():
    from smalldocs import markdown as sd_markdown

    rule = build_docs.prose_only(sd_markdown.Rules.search_text)
    original = sd_markdown.Rules.search_text
    sd_markdown.Rules.search_text = rule
    try:
        env = {}
        sd_markdown.render("[source](https://x/y.py#L1){.api-source}\n\n### f {#f}\n\n```python\ndef f(): pass\n```\n\n*Do it.*\n\n"
                           "| a | b |\n|--|--|\n| 1 | 2 |\n", env)
    finally:
        sd_markdown.Rules.search_text = original
    assert env["search"] == [{"id": "f", "title": "f", "text": "Do it."}]


def test_code_lines_hang():
    "Each line becomes a span with its indent; a highlighter's span across a line end is closed and reopened."
    code = 'x = <span class="st">"""a\n  b"""</span>\n\n    y'
    out = build_docs.hang_lines(code)
    assert out.split("\n") == [
        '<span class="cl" style="--i:0">x = <span class="st">"""a</span></span>',
        '<span class="cl" style="--i:2"><span class="st">  b"""</span></span>',
        '<span class="cl" style="--i:0"></span>',
        '<span class="cl" style="--i:4">    y</span>']
    assert build_docs._TAG.sub("", out) == build_docs._TAG.sub("", code), "the text is unchanged, so copying gives the code"


def test_a_base_of_the_same_name_is_qualified(api_module):
    ns = {}
    exec("class Oops(Exception): pass", ns)
    base = ns["Oops"]
    base.__module__ = "other.errors"
    sub = type("Oops", (base, ValueError), {"__doc__": "Ours.", "__module__": "apimod"})
    assert "class Oops(other.errors.Oops, ValueError)\n" in apidoc.entry_markdown(sub)
