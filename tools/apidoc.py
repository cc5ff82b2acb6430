"""API entries for the website, as Python reads them: what `show_doc` shows when `tools/build_docs.py` builds the site.

nbdev's own `show_doc` (fastcore's `MarkdownRenderer`) writes every class as `def KMeans(`, guesses a type from each
default (`n_init:str='auto'`, `random_state:NoneType=None`), puts each docment in a comment that runs off the column,
and names dunder methods in Markdown that eats their underscores (`KMeans.__repr__` shows as "KMeans.repr"). The
entry made here has, for each function, class or method:

- a heading with the name as written (`KMeans.__call__`) and nbdev's anchor (`#kmeans.__call__`), and the link to
  the source on the right;
- the signature as Python writes it, `class KMeans(n_clusters: int = 8, *, ...)` or `def fit(X, y=None) -> KMeans`:
  annotations as the source spells them, none invented; on one line when it fits, else one parameter a line;
  a class whose `__init__` is a built-in one (an exception) shows its bases instead, `class NotFittedError(ValueError)`;
- the docstring, its first line in italics, as nbdev shows it;
- a table of the parameters, one row each: name, type, default and the docment (the comment after the parameter),
  and a row for what it returns when that has a type or a docment.

Methods that only scikit-learn calls (`__sklearn_tags__`, `__sklearn_is_fitted__`, and an estimator's `__repr__`,
`__getstate__`, `__setstate__`) get no entry: `ApiEntry` renders them as nothing.

`use()` makes nbdev's `show_doc` render with `ApiEntry`; the docs builder calls it before it runs the `show_doc` cells.
"""

import ast
import inspect
import re
import textwrap
import types

SIGNATURE_WIDTH = 88  # a signature longer than this goes one parameter a line
_PLUMBING = re.compile(r"^__sklearn_\w+__$|^_more_tags$|^_get_tags$")
_ESTIMATOR_PLUMBING = {"__repr__", "__getstate__", "__setstate__", "__sklearn_clone__"}
P = inspect.Parameter
empty = P.empty


def _unwrap(sym):
    if isinstance(sym, property):
        sym = sym.fget or sym.fset or sym
    if isinstance(sym, (classmethod, staticmethod)):
        sym = sym.__func__
    return sym if hasattr(sym, "__signature__") else getattr(sym, "__wrapped__", sym)


def _owner(sym):  # the class a method was defined on (or patched into), from its qualified name, else None
    qn = getattr(sym, "__qualname__", "")
    mod = inspect.getmodule(sym)
    if "." not in qn or mod is None:
        return None
    obj = mod
    for part in qn.split(".")[:-1]:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj if inspect.isclass(obj) else None


def is_plumbing(sym, name: str) -> bool:
    "Whether `sym` is a method only scikit-learn calls, which the site leaves out."
    short = name.rsplit(".", 1)[-1]
    if _PLUMBING.match(short):
        return True
    owner = _owner(sym)
    return short in _ESTIMATOR_PLUMBING and owner is not None and hasattr(owner, "get_params")


def _source_params(sym) -> dict[str, tuple[str | None, str | None]]:  # name -> (annotation, default) as written
    "The annotations and defaults of a function's (or a class's `__init__`'s, or a dataclass's) source text."
    target = sym
    if inspect.isclass(sym):
        init = sym.__dict__.get("__init__")
        target = init if init is not None and not getattr(init, "__module__", "").startswith("dataclasses") else sym
    try:
        src = textwrap.dedent(inspect.getsource(target))
        tree = ast.parse(src)
    except (OSError, TypeError, SyntaxError, IndentationError):
        return {}
    node = tree.body[0] if tree.body else None
    seg = lambda n: ast.get_source_segment(src, n) if n is not None else None  # noqa: E731  a default, as written
    ann = lambda n: ast.unparse(n) if n is not None else None  # noqa: E731  an annotation, spaced as PEP 8 spaces it
    out: dict[str, tuple[str | None, str | None]] = {}
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        a = node.args
        pos = [*a.posonlyargs, *a.args]
        defaults = [None] * (len(pos) - len(a.defaults)) + list(a.defaults)
        for arg, d in zip(pos, defaults):
            out[arg.arg] = (ann(arg.annotation), seg(d))
        for arg, d in zip(a.kwonlyargs, a.kw_defaults):
            out[arg.arg] = (ann(arg.annotation), seg(d))
        for arg in (a.vararg, a.kwarg):
            if arg is not None:
                out[arg.arg] = (ann(arg.annotation), None)
        out["return"] = (ann(node.returns), None)
    elif isinstance(node, ast.ClassDef):  # a dataclass or NamedTuple: its annotated fields
        for st in node.body:
            if isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name):
                d = seg(st.value)
                if isinstance(st.value, ast.Call) and getattr(st.value.func, "id", getattr(st.value.func, "attr", "")) == "field":
                    d = None  # `field(default_factory=...)`: the signature's default says it better
                out[st.target.id] = (ann(st.annotation), d)
    return out


def _anno_str(a) -> str | None:
    if a is empty:
        return None
    if isinstance(a, str):
        return a
    return inspect.formatannotation(a).replace("typing.", "")


def _default_str(d) -> str | None:
    if d is empty:
        return None
    if isinstance(d, (types.FunctionType, type)):
        return d.__name__
    r = repr(d)
    return r if len(r) <= 60 else r[:57] + "..."


class Param:
    "One parameter as the entry shows it."

    def __init__(self, p: inspect.Parameter, written: tuple[str | None, str | None], doc: str | None):
        self.name, self.kind, self.doc = p.name, p.kind, (doc or "").strip()
        anno, default = written
        self.anno = anno or _anno_str(p.annotation)  # as written (spaced as `ast.unparse` spaces it); never from the default
        self.default = " ".join(default.split()) if default is not None and p.default is not empty else _default_str(p.default)
        self.star = "*" if p.kind == P.VAR_POSITIONAL else "**" if p.kind == P.VAR_KEYWORD else ""

    def __str__(self) -> str:  # as PEP 8 writes it: `x`, `x=1`, `x: int`, `x: int = 1`, `*args`
        s = self.star + self.name + (f": {self.anno}" if self.anno else "")
        if self.default is not None:
            s += f" = {self.default}" if self.anno else f"={self.default}"
        return s


def _signature(sym):
    try:
        return inspect.signature(sym)
    except (TypeError, ValueError):
        return None


def _builtin_init(cls) -> bool:  # whether the class's __init__ is object's or an exception's, with no parameters of its own
    for k in cls.__mro__:
        if "__init__" in k.__dict__:
            return k.__module__ == "builtins"
    return True


def _docments(sym) -> dict[str, str]:
    try:
        from fastcore.docments import docments

        return {k: v for k, v in docments(sym).items() if v}
    except Exception:  # an object whose source cannot be read: no docments, the entry still shows
        return {}


def _params(sym, drop_self: bool) -> tuple[list[Param], tuple[str | None, str]]:  # the parameters, and (return type, its docment)
    sig = _signature(sym)
    if sig is None:
        return [], (None, "")
    written = _source_params(sym)
    docs = _docments(sym)
    ps = list(sig.parameters.values())
    if drop_self and ps and ps[0].name in ("self", "cls"):
        ps = ps[1:]
    params = [Param(p, written.get(p.name, (None, None)), docs.get(p.name)) for p in ps]
    ret = written.get("return", (None, None))[0] or _anno_str(sig.return_annotation)
    return params, (ret, docs.get("return", "") or "")


def format_signature(prefix: str, name: str, params: list[Param], ret: str | None, width: int = SIGNATURE_WIDTH) -> str:
    "Python's way: on one line when it fits, else one parameter a line, with `/` and `*` where they belong."
    parts, prev, star = [], None, False
    for p in params:
        if prev == P.POSITIONAL_ONLY and p.kind != prev:
            parts.append("/")
        if p.kind == P.KEYWORD_ONLY and not star:
            parts.append("*")
        star = star or p.kind in (P.KEYWORD_ONLY, P.VAR_POSITIONAL)
        parts.append(str(p))
        prev = p.kind
    if prev == P.POSITIONAL_ONLY:
        parts.append("/")
    tail = f" -> {ret}" if ret else ""
    one = f"{prefix} {name}({', '.join(parts)}){tail}"
    if len(one) <= width or not parts:
        return one
    return f"{prefix} {name}(\n" + "".join(f"    {s},\n" for s in parts) + f"){tail}"


def _cell(s: str) -> str:  # a table cell's Markdown: pipes escaped, lines joined
    return " ".join(str(s).split()).replace("|", "\\|")


def _code(s: str | None) -> str:
    if not s:
        return ""
    ticks = "``" if "`" in s else "`"
    pad = " " if "`" in s else ""
    return f"{ticks}{pad}{_cell(s)}{pad}{ticks}"


def param_table(params: list[Param], ret: tuple[str | None, str]) -> str:
    "The parameters as a Markdown table (name, type, default, details), and a row for what is returned."
    if not params:
        return ""
    rows = ["| Parameter | Type | Default | Details |", "|:--|:--|:--|:--|"]
    for p in params:
        rows.append(f"| {_code(p.star + p.name)} | {_code(p.anno)} | {_code(p.default)} | {_cell(p.doc)} |")
    if ret[0] or ret[1]:
        rows.append(f"| **Returns** | {_code(ret[0])} |  | {_cell(ret[1])} |")
    return "\n".join(rows)


def _md_escape(name: str) -> str:
    return re.sub(r"([\\`*_\[\]<>])", r"\\\1", name)


def _source_link(sym) -> str:
    try:
        from fastcore.docments import _fullname
        from nbdev.doclinks import NbdevLookup

        url = NbdevLookup().code(_fullname(sym))
    except Exception:
        url = None
    return f'[source]({url}){{.api-source target="_blank"}}' if url else ""


def _docstring(sym) -> str:
    own = sym.__dict__.get("__doc__") if inspect.isclass(sym) else getattr(sym, "__doc__", None)
    doc = inspect.cleandoc(own) if own else ""
    if not doc:  # inherited: its first paragraph only
        doc = (inspect.getdoc(sym) or "").split("\n\n")[0]
    return doc.strip()


def entry_markdown(sym, name: str | None = None, title_level: int = 3) -> str:
    "The Markdown of one API entry, or '' for scikit-learn's plumbing."
    sym = _unwrap(sym)
    name = name or getattr(sym, "__qualname__", None) or getattr(sym, "__name__", None) or type(sym).__name__
    if is_plumbing(sym, name):
        return ""
    short = name.rsplit(".", 1)[-1]
    if inspect.isclass(sym):
        if _builtin_init(sym):
            # a base of the same name (scikit-learn's NotFittedError, say) is named with its module
            bases = [f"{b.__module__}.{b.__name__}" if b.__name__ == short and b.__module__ != "builtins" else b.__name__
                     for b in sym.__bases__ if b is not object]
            sig = f"class {short}({', '.join(bases)})" if bases else f"class {short}"
            params, ret = [], (None, "")
        else:
            params, ret = _params(sym, drop_self=False)
            sig = format_signature("class", short, params, None)
            ret = (None, "")
    elif callable(sym):
        params, ret = _params(sym, drop_self=_owner(sym) is not None or "." in name)
        prefix = "async def" if inspect.iscoroutinefunction(sym) else "def"
        sig = format_signature(prefix, short, params, ret[0])
    else:
        params, ret = [], (None, "")
        sig = f"{short}: {type(sym).__name__}"
    out = ["---", ""]
    link = _source_link(sym)
    if link:
        out += [link, ""]
    out += [f"{'#' * title_level} {_md_escape(name)} {{#{name.lower()}}}", "", f"```python\n{sig}\n```", ""]
    doc = _docstring(sym)
    if doc:
        first, _, rest = doc.partition("\n")
        out += [f"*{first.strip()}*" + (f"\n{rest}" if rest.strip() else ""), ""]
    table = param_table(params, ret)
    if table:
        out += ["::: {.api-params}", "", table, "", ":::", ""]
    return "\n".join(out).rstrip() + "\n"


class ApiEntry:
    "What `show_doc` returns when the site is built: an object that shows itself as an API entry in Markdown."

    def __init__(self, sym, name: str | None = None, title_level: int = 3, **kwargs):
        self.sym, self.name, self.title_level = sym, name, title_level

    def _repr_markdown_(self) -> str:
        return entry_markdown(self.sym, self.name, self.title_level)

    def __repr__(self) -> str:
        return self._repr_markdown_()


def use() -> None:
    "Make nbdev's `show_doc` (and `doc`) render with `ApiEntry`, in this process."
    import nbdev.showdoc

    nbdev.showdoc.BasicMarkdownRenderer = ApiEntry
