"Reports of the benchmarks: rows as text for a terminal and back, as a table for a page, as a plot; saved results."
from __future__ import annotations
import json, re
from pathlib import Path
import numpy as np

__all__ = ['RESULTS', 'TITLES', 'format_table', 'parse_table', 'frame', 'save_results', 'load_results', 'plot_sweep']

RESULTS = Path(__file__).resolve().parent / 'results' / 'measurements.json'

TITLES = {'step': 'one Lloyd iteration, bare kernels', 'estimator': 'one Lloyd iteration, KMeans(init=C, max_iter=1).fit',
          'fit': 'fit to convergence, default settings (n_init=1)'}
_HEADER = f"{'library':<20} {'median s':>10} {'min s':>10} {'inertia':>14} {'iters':>6} {'time ours/peer':>15} {'inertia ours/peer':>18}"

def _fmt(x, spec:str, none:str='') -> str: return none if x is None else format(x, spec)

def format_table(
    rows:list[dict],       # rows from `bench_iteration`, `bench_fit` or `sweep`
) -> str:                  # the table, one block per (mode, level, n, d, k)
    "Rows as a plain-text table for a terminal: median and min time, inertia, iterations, and the ratios ours/peer."
    out, block = [], None
    for r in rows:
        key = (r['mode'], r['level'], r['n'], r['d'], r['k'])
        if key != block:
            block = key
            if out: out.append('')
            load = '' if r.get('load') is None else f" (load average {r['load']:.1f} at the start)"
            out += [f"{TITLES[r['level']]}: N={r['n']:,} D={r['d']} K={r['k']}, median of {r['repeat']}{load}", _HEADER, '-' * len(_HEADER)]
        if r['time'] is None: out.append(f"{r['library']:<20} {r['note']}"); continue
        out.append(f"{r['library']:<20} {r['time']:>10.4f} {r['time_min']:>10.4f} {r['inertia']:>14.6g} {_fmt(r['n_iter'], '>6g', ' ' * 6)} "
                   f"{_fmt(r['time_ratio'], '>14.3f', ' ' * 14)}{'×' if r['time_ratio'] else ' '} {_fmt(r['inertia_ratio'], '>18.5f')}")
    return '\n'.join(out)

def parse_table(
    text:str,              # the output of `format_table`, as printed
) -> list[dict]:           # its rows, with the precision printed (no per-round `seconds`)
    "Read a printed report back into rows: for reports saved as text, such as a notebook's outputs or a CI log."
    levels, rows, head = {v: k for k, v in TITLES.items()}, [], None
    num = lambda s: None if s == '' else float(s.rstrip('×'))
    for line in text.splitlines():
        m = re.match(r"(.+): N=([\d,]+) D=(\d+) K=(\d+), median of (\d+)(?: \(load average ([\d.]+) at the start\))?$", line)
        if m:
            level = levels[m[1]]
            head = dict(mode='fit' if level == 'fit' else 'iteration', level=level, n=int(m[2].replace(',', '')), d=int(m[3]),
                        k=int(m[4]), repeat=int(m[5]), load=None if m[6] is None else float(m[6]))
        elif head and line.strip() and not line.startswith(('library ', '---')):
            name, rest = line[:20].strip(), line[21:]
            if not re.match(r"\s*[\d.]+\s", rest):
                rows.append(dict(head, library=name, repeat=0, seconds=[], time=None, time_min=None, inertia=None, n_iter=None,
                                 time_ratio=None, inertia_ratio=None, note=rest)); continue
            cols = [rest[a:b].strip() for a, b in [(0, 10), (10, 21), (21, 36), (36, 43), (43, 59), (59, 79)]]
            t, t_min, inertia, n_iter, t_ratio, i_ratio = map(num, cols)
            rows.append(dict(head, library=name, seconds=[], time=t, time_min=t_min, inertia=inertia, n_iter=n_iter,
                             note='', time_ratio=t_ratio, inertia_ratio=i_ratio))
    return rows

_SHORT = {'step': 'one iteration, bare kernels', 'estimator': 'one iteration, KMeans(max_iter=1).fit', 'fit': 'fit to convergence'}

def frame(
    rows:list[dict],       # rows from `bench_iteration`, `bench_fit`, `sweep` or `parse_table`
):                         # a pandas DataFrame, one row per library and problem
    "Rows as a table for a notebook or a web page: the problem, the library, times in ms, and the ratios ours/peer."
    import pandas as pd
    blank = lambda x, nd: '' if x is None else round(x, nd)  # nothing where a figure does not apply
    df = pd.DataFrame([{'comparison': _SHORT[r['level']], 'N': r['n'], 'D': r['d'], 'K': r['k'], 'library': r['library'],
                        'median ms': blank(r['time'] and 1e3 * r['time'], 2), 'min ms': blank(r['time_min'] and 1e3 * r['time_min'], 2),
                        'inertia': '' if r['inertia'] is None else f"{r['inertia']:.6g}", 'iterations': blank(r['n_iter'], 1),
                        'time ours/peer': blank(r['time_ratio'], 3), 'inertia ours/peer': blank(r['inertia_ratio'], 5),
                        'note': r['note']} for r in rows])
    for col in ('note', 'iterations'):
        if not df[col].astype(bool).any(): df = df.drop(columns=col)
    return df.set_index(['comparison', 'N', 'D', 'K', 'library'])

def save_results(
    name:str,              # key of this result in the file
    value,                 # rows, a `bench_memory` dict, or any JSON-able value
    path:Path=RESULTS,     # the JSON file; other keys in it are kept
) -> None:
    "Store a measurement under `name` in the results file, so that reports and pictures can be made without re-measuring."
    path = Path(path)
    saved = json.loads(path.read_text()) if path.exists() else {}
    saved[name] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(saved, indent=1, ensure_ascii=False) + '\n')

def load_results(path:Path=RESULTS) -> dict:
    "The saved measurements: name -> rows or values."
    return json.loads(Path(path).read_text())

def plot_sweep(
    rows:list[dict],       # rows from `sweep`
    param:str,             # the parameter that varies
    level:str|None=None,   # keep only rows of this level ('step', 'estimator', 'fit'); the first level when None
    ax=None,               # axes to draw on; a new figure when None
):
    "Median time of each library against `param`, log-log; error bars span the rounds (down to the fastest when only that is known)."
    import matplotlib.pyplot as plt
    rows = [r for r in rows if r['time'] is not None]
    level = level or rows[0]['level']
    rows = [r for r in rows if r['level'] == level]
    if ax is None: ax = plt.subplots(figsize=(6, 4))[1]
    for lib in dict.fromkeys(r['library'] for r in rows):
        rs = sorted((r for r in rows if r['library'] == lib), key=lambda r: r[param])
        x, t = [r[param] for r in rs], np.array([r['time'] for r in rs])
        err = [t - [r['time_min'] for r in rs], [max(r['seconds'] or [r['time']]) for r in rs] - t]
        ax.errorbar(x, t, yerr=err, marker='o', capsize=3, label=lib)
    fixed = {p: rows[0][p] for p in ('n', 'd', 'k') if p != param}
    ax.set(xscale='log', yscale='log', xlabel=param.upper(), ylabel='seconds (median)',
           title=f"{level}: " + ', '.join(f"{p.upper()}={v:,}" for p, v in fixed.items()))
    ax.legend(); ax.grid(True, which='both', alpha=.3)
    return ax
