"The benchmark harness: the data, the inertia judge, interleaved timing, the two modes, sweeps and memory."
from __future__ import annotations
import gc, json, os, platform, statistics, subprocess, sys, time, warnings
from pathlib import Path
import numpy as np
import torch
from kmeans_scratch.data import generate_data
from kmeans_scratch.init import _native_bf16
from benchmarks.peers import Job, REGISTRY, load_peer

__all__ = ['ROOT', 'blobs', 'gaussian_blobs', 'nearest_inertia', 'time_interleaved', 'environment', 'set_threads', 'bench_iteration',
           'bench_fit', 'sweep', 'bench_memory', 'format_memory', 'tfidf_like', 'sparse_inertia', 'bench_sparse']

ROOT = Path(__file__).resolve().parents[1]               # the repository

def blobs(
    n:int,                 # number of points
    d:int,                 # number of features
    k:int,                 # number of blobs
    seed:int=0,            # seed: same seed, same data
    std:float=3.,          # standard deviation of each coordinate around its centre
    bound:float=10.,       # centres are uniform in [-bound, bound] along each axis
    dtype:torch.dtype=torch.float32, # dtype of the data
) -> torch.Tensor:         # the points (n×d), the blobs' rows in random order
    "`n` points around `k` random centres: `generate_data` with a standard deviation, any `n` and shuffled rows."
    return generate_data(k, n_features=d, spread=std ** 2, bound=bound, seed=seed, dtype=dtype, n_points=n, shuffle=True)[1]

def gaussian_blobs(
    n:int,                 # number of points
    d:int,                 # number of features
    k:int,                 # number of blobs
    seed:int=0,            # seed: same seed, same data
    noise:float=0.6,       # standard deviation of each coordinate around its centre
    dtype:torch.dtype=torch.float32, # dtype of the data
) -> torch.Tensor:         # the points (n×d), each from a blob drawn at random
    "`n` points around `k` centres drawn from N(0, 1) in every coordinate, plus N(0, noise²): embedding-like data, wide and with many clusters."
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(k, d, generator=g, dtype=dtype)
    return centres[torch.randint(k, (n,), generator=g)].add_(torch.randn(n, d, generator=g, dtype=dtype), alpha=noise)

def nearest_inertia(
    data:torch.Tensor,     # points (n×d), any float dtype and device
    centres,               # centres (k×d): tensor or numpy array, in the same coordinates as `data`
    chunk_size:int=32768,  # rows per chunk
) -> float:                # Σ over points of the squared distance to the nearest centre
    "Inertia of `centres` on `data`: each point to its nearest centre, computed in float64."
    centres = torch.as_tensor(np.asarray(centres) if not isinstance(centres, torch.Tensor) else centres)
    centres = centres.to(data.device, torch.float64)
    mean = data.mean(0, dtype=torch.float64)
    c = centres - mean
    c_sqnorm = (c * c).sum(1)
    total = torch.zeros((), dtype=torch.float64, device=data.device)
    for s in range(0, data.shape[0], chunk_size):
        x = data[s:s + chunk_size].double() - mean
        nearest = torch.addmm(c_sqnorm, x, c.T, alpha=-2).argmin(1)
        total += ((x - c[nearest]) ** 2).sum()
    return float(total)

def time_interleaved(
    contenders:dict,       # name -> function of the round number `r`, returning its result
    repeat:int=3,          # rounds
    sync=None,             # called before and after each run (a CUDA synchronise), or None
) -> tuple[dict, dict]:    # (name -> list of seconds, name -> list of results), in round order
    "Time each contender `repeat` times, one round of all at a time, in a rotating order."
    names = list(contenders)
    times, results = {n: [] for n in names}, {n: [] for n in names}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # a printed warning costs time and clutters the report
        for r in range(repeat):
            gc.collect()
            shift = r % len(names)
            for name in names[shift:] + names[:shift]:
                if sync: sync()
                gc.disable()  # as `timeit` does: no garbage-collection pause inside a timed run
                try:
                    t0 = time.perf_counter()
                    out = contenders[name](r)
                    if sync: sync()
                    times[name].append(time.perf_counter() - t0)
                finally: gc.enable()
                results[name].append(out)
    return times, results

def _cpu_model() -> str:
    "The CPU's name, as the system reports it: timings and ratios depend on it."
    try: return next(l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name'))
    except (OSError, StopIteration): return platform.processor() or 'CPU model unknown'

def environment(
    peers=('sklearn', 'faiss'), # peers whose versions and threads to report
) -> str:                  # one line per library
    "Versions and thread counts of this library and the peers that are installed."
    from kmeans_scratch import __version__
    load = _load()
    busy = " (BUSY: more runnable jobs than CPUs, timings are unreliable)" if load is not None and load > os.cpu_count() else ""
    lines = [f"machine: {platform.machine()} ({_cpu_model()}), {os.cpu_count()} CPUs, "
             f"{'load unknown' if load is None else f'load average {load:.1f}'}{busy}; python {platform.python_version()}",
             f"kmeans_scratch {__version__}: torch {torch.__version__}, {torch.get_num_threads()} intra-op threads"
             + (f", CUDA {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ", no GPU")
             + f"; bfloat16 in hardware: {'yes' if _native_bf16() else 'no'}",
             f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset (OpenMP threads spin for a while before sleeping)')}"]
    for name in peers:
        mod, note = load_peer(name)
        about = REGISTRY[name].about if mod is not None else None
        lines.append(f"{name}: {note}" if mod is None else about(mod) if about else name)
    return '\n'.join(lines)

_THREAD_LIMITS = []  # keeps the threadpoolctl limits alive for the rest of the process

def set_threads(
    n:int,                 # threads for every library
) -> None:
    "Give PyTorch, every OpenMP/BLAS pool that threadpoolctl finds, and each installed peer the same thread count."
    torch.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits
        _THREAD_LIMITS.append(threadpool_limits(limits=n))
    except ImportError: pass
    for peer in REGISTRY.values():
        if peer.threads:
            mod, _ = peer.load()
            if mod is not None: peer.threads(mod, n)

def _sync_for(device) -> callable:
    "A function that waits for `device` to finish its queue, or None on the CPU."
    return torch.cuda.synchronize if torch.device(device).type == 'cuda' else None

def _start(data:torch.Tensor, k:int, seed:int) -> torch.Tensor:
    "`k` distinct rows of `data` chosen with `seed`: the common starting centres."
    return data[torch.randperm(data.shape[0], generator=torch.Generator().manual_seed(seed))[:k]].clone()

def _contenders(level:str, job:Job, peers) -> dict:
    "Ours and each peer's function at `level` ('step', 'estimator' or 'fit'); what is missing becomes a note in `job.notes`."
    out = {'ours': getattr(REGISTRY['ours'], level)(None, job)}
    for name in peers:
        peer = REGISTRY.get(name)
        if level == 'estimator' and peer is not None and peer.estimator is None: continue  # the public API only where there is one
        mod, note = load_peer(name)
        if mod is None: job.notes.append(f"{name}: {note}"); continue
        if getattr(peer, level) is None: job.notes.append(f"{name}: no one-iteration step to compare"); continue
        f = getattr(peer, level)(mod, job)
        if f is not None: out[name] = f
    return out

def _median(xs): return statistics.median(xs) if xs else None

def _load() -> float|None:
    "The one-minute load average, where the system has one."
    return os.getloadavg()[0] if hasattr(os, 'getloadavg') else None

def _rows(mode:str, level:str, n:int, d:int, k:int, times:dict, inertias:dict, iters:dict|None=None, notes=(), load=None) -> list[dict]:
    "Report rows: median time, min time, median inertia and iterations, and ratios ours/peer on the peers' rows."
    rows = []
    for name in times:
        rows.append(dict(mode=mode, level=level, n=n, d=d, k=k, library=name, repeat=len(times[name]), load=load,
                         seconds=times[name], time=_median(times[name]), time_min=min(times[name]),
                         inertia=_median(inertias[name]), n_iter=_median(iters[name]) if iters else None, note=''))
    ours = rows[0]
    for row in rows:
        row['time_ratio'] = None if row is ours else ours['time'] / row['time']
        row['inertia_ratio'] = None if row is ours else ours['inertia'] / row['inertia']
    for note in notes:
        name, _, text = note.partition(': ')
        rows.append(dict(mode=mode, level=level, n=n, d=d, k=k, library=name, repeat=0, load=load, seconds=[], time=None,
                         time_min=None, inertia=None, n_iter=None, time_ratio=None, inertia_ratio=None, note=text))
    return rows

def _warm_up(make_job, level:str, data:torch.Tensor, k:int, peers, rows:int=20000):
    "Run every contender once on the first `rows` points, untimed: libraries load, thread pools start."
    small = data[:max(min(rows, data.shape[0]), k)]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for f in _contenders(level, make_job(small), peers).values(): f(0)

def bench_iteration(
    n:int=100_000,         # points
    d:int=32,              # features
    k:int=64,              # clusters
    repeat:int=5,          # timed rounds; the median is reported
    seed:int=0,            # seed of the data and of the starting centres
    peers=('sklearn', 'faiss'), # peer libraries to compare with
    levels=('step', 'estimator'), # which comparisons: the bare iteration, the public API with max_iter=1
    device='cpu',          # where our side runs; peers run on the CPU
    data:torch.Tensor|None=None, # use these points instead of `blobs(n, d, k, seed)`
) -> list[dict]:           # one row per library and level
    "Time one Lloyd iteration from the same starting centres in this library and its peers."
    if data is None: data = blobs(n, d, k, seed)
    n, d = data.shape
    make_job = lambda x: Job(x, k, seed, start=_start(x, k, seed), device=device)
    rows = []
    for level in levels:
        _warm_up(make_job, level, data, k, peers)
        job = make_job(data)
        contenders = _contenders(level, job, peers)
        load = _load()
        times, results = time_interleaved(contenders, repeat, _sync_for(device))
        xc = data - data.mean(0)
        inertias = {name: [nearest_inertia(xc, res[-1])] for name, res in results.items()}
        rows += _rows('iteration', level, n, d, k, times, inertias, notes=job.notes, load=load)
        del contenders, results, job; gc.collect()
    return rows

def bench_fit(
    n:int=100_000,         # points
    d:int=32,              # features
    k:int=64,              # clusters
    repeat:int=3,          # timed rounds, round `r` with seed `seed + r`; medians are reported
    seed:int=0,            # seed of the data and of the first round's fit
    peers=('sklearn', 'faiss'), # peer libraries to compare with
    tol:float=1e-4,        # relative tolerance, for us and scikit-learn
    max_iter:int=300,      # most iterations, for us and scikit-learn
    faiss_niter:int|None=None, # faiss iterations; its default (25) when None
    device='cpu',          # where our side (and fast-pytorch-kmeans) runs
    data:torch.Tensor|None=None, # use these points instead of `blobs(n, d, k, seed)`
) -> list[dict]:           # one row per library
    "Time a default fit to convergence in this library and its peers, and judge the inertia of their centres."
    if data is None: data = blobs(n, d, k, seed)
    n, d = data.shape
    make_job = lambda x: Job(x, k, seed, device=device, tol=tol, max_iter=max_iter, faiss_niter=faiss_niter)
    _warm_up(make_job, 'fit', data, k, peers)
    job = make_job(data)
    contenders = _contenders('fit', job, peers)
    load = _load()
    times, results = time_interleaved(contenders, repeat, _sync_for(device))
    inertias = {name: [nearest_inertia(data, c) for c, _ in res] for name, res in results.items()}
    iters = {name: [i for _, i in res if i is not None] for name, res in results.items()}
    return _rows('fit', 'fit', n, d, k, times, inertias, iters, job.notes, load)

def sweep(
    param:str,             # 'n', 'd' or 'k'
    values,                # values of `param` to measure
    mode:str='iteration',  # 'iteration' or 'fit'
    **kwargs,              # the other arguments of `bench_iteration` or `bench_fit`
) -> list[dict]:           # the rows of every run
    "Rows of `bench_iteration` or `bench_fit` for each value of `param`."
    f = {'iteration': bench_iteration, 'fit': bench_fit}[mode]
    return [row for v in values for row in f(**{**kwargs, param: v})]

def _peak_rss() -> int:
    "Largest resident set size of this process so far, in bytes."
    # Linux: VmHWM belongs to this address space, so it starts afresh at exec; ru_maxrss would carry over the high-water
    # mark of the process we were forked from (a notebook kernel holding a gigabyte would make every child look that big)
    status = '/proc/self/status'
    if os.path.exists(status):
        for line in open(status):
            if line.startswith('VmHWM:'): return int(line.split()[1]) * 1024
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == 'darwin' else peak * 1024  # macOS reports bytes, Linux kibibytes

def _memory_child(n:int, d:int, k:int, seed:int, max_iter:int, library:str):
    "In a fresh process: make the data, fit it once with `library`, print the peaks and timings as JSON."
    after_import = _peak_rss()
    if library not in REGISTRY or REGISTRY[library].memory_fit is None: raise ValueError(f"unknown library {library!r}")
    mod, note = REGISTRY[library].load()
    if mod is None: raise ImportError(note)
    data = blobs(n, d, k, seed)
    before_fit = _peak_rss()
    t0 = time.perf_counter()
    n_iter = REGISTRY[library].memory_fit(mod, data, k, seed, max_iter)
    seconds = time.perf_counter() - t0
    print(json.dumps(dict(after_import=after_import, before_fit=before_fit, peak=_peak_rss(), seconds=seconds, n_iter=n_iter)))

def bench_memory(
    n:int=5_000_000,       # points
    d:int=16,              # features
    k:int=1024,            # clusters
    seed:int=0,            # seed of the data and the fit
    max_iter:int=300,      # most iterations of the fit
    library:str='ours',    # 'ours', 'sklearn' or 'faiss'
    timeout:float|None=None, # seconds before the child is stopped
) -> dict:                 # bytes: data, budget (2×data + 1 GiB), peak; and seconds, iterations
    "Peak resident memory of a fresh process that makes float32 blobs and fits them once."
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from benchmarks.harness import _memory_child; "
            f"_memory_child({n}, {d}, {k}, {seed}, {max_iter}, {library!r})")
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    res = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=timeout, env=env)
    if res.returncode != 0: raise RuntimeError(f"memory child failed ({res.returncode}):\n{res.stderr[-2000:]}")
    out = json.loads(res.stdout.strip().splitlines()[-1])
    data_bytes = n * d * 4
    return dict(library=library, n=n, d=d, k=k, data=data_bytes, budget=2 * data_bytes + 2**30, **out)

def format_memory(
    m:dict,                # a result of `bench_memory`
) -> str:                  # a few lines
    "A `bench_memory` result in MiB, with the verdict against 2×data + 1 GiB."
    mib = lambda b: f"{b / 2**20:,.0f} MiB"
    return (f"{m['library']}: fit of N={m['n']:,} D={m['d']} K={m['k']} float32 ({m['n_iter']} iterations, {m['seconds']:.1f} s)\n"
            f"  data {mib(m['data'])}; peak after imports {mib(m['after_import'])}, with data {mib(m['before_fit'])}, "
            f"during fit {mib(m['peak'])}\n"
            f"  budget 2×data + 1 GiB = {mib(m['budget'])}: peak is {m['peak'] / m['budget']:.2f}× the budget "
            f"({'within' if m['peak'] <= m['budget'] else 'OVER'})")

def tfidf_like(
    n:int=100_000,         # documents (rows)
    d:int=50_000,          # vocabulary (columns)
    density:float=0.001,   # fraction of entries stored: about d·density words per document
    n_topics:int=50,       # topics; each document draws half its words from its topic's slice of the vocabulary
    seed:int=0,            # seed of the draws
):                         # (a SciPy CSR matrix of L2-normalised TF-IDF rows, the topic of each row)
    "A sparse matrix shaped like TF-IDF text features: Zipf-distributed word counts, idf weights, rows of length one."
    import scipy.sparse as sp
    rng = np.random.default_rng(seed)
    per, width = max(1, round(d * density)), d // n_topics
    topic = rng.integers(0, n_topics, n)
    own = rng.random((n, per)) < 0.5
    words = np.where(own, topic[:, None] * width + rng.zipf(1.3, (n, per)) % width, rng.zipf(1.1, (n, per)) % d)
    X = sp.csr_matrix((rng.integers(1, 4, (n, per)).astype(np.float64).ravel(), words.ravel(), np.arange(0, n * per + 1, per)), shape=(n, d))
    X.sum_duplicates()  # a word drawn twice counts twice
    df = np.bincount(X.indices, minlength=d)
    X.data *= np.log((1 + n) / (1 + df[X.indices])) + 1  # scikit-learn's smooth idf
    X = sp.diags(1 / np.sqrt(np.asarray(X.multiply(X).sum(1)).ravel())) @ X
    return X.tocsr(), topic

def sparse_inertia(
    X,                     # a SciPy sparse matrix (n×d)
    centres,               # centres (k×d), numpy or tensor
    chunk_size:int=20_000, # rows per chunk
) -> float:                # Σ over rows of the squared distance to the nearest centre, in float64
    "The judge for sparse data, in SciPy and numpy only (none of the code under test): ‖x‖² − 2x·c + ‖c‖², nearest centre, summed."
    C = np.asarray(centres.cpu() if isinstance(centres, torch.Tensor) else centres, dtype=np.float64)
    c_sqnorm, total = (C * C).sum(1), 0.
    for s in range(0, X.shape[0], chunk_size):
        x = X[s:s + chunk_size].astype(np.float64)
        d2 = np.asarray(x.multiply(x).sum(1)) - 2 * (x @ C.T) + c_sqnorm
        total += float(np.maximum(d2.min(1), 0).sum())
    return total

def bench_sparse(
    n:int=100_000,         # rows
    d:int=50_000,          # columns
    density:float=0.001,   # fraction of entries stored
    k:int=50,              # clusters
    repeat:int=3,          # rounds, round `r` with seed `seed + r`; medians are reported
    seed:int=0,            # seed of the data and of the first round's fits
    peers=('sklearn',),    # scikit-learn is the one peer with sparse input (faiss takes dense arrays only)
) -> list[dict]:           # one row per library
    "Time default fits on a TF-IDF-like sparse matrix in this library and scikit-learn, and judge their centres."
    from kmeans_scratch import KMeans
    X, _ = tfidf_like(n, d, density, seed=seed)
    classes = {'kmeans_scratch': KMeans}
    if 'sklearn' in peers:
        from sklearn.cluster import KMeans as SKMeans
        classes['sklearn'] = SKMeans
    with warnings.catch_warnings():  # untimed warm-up on a slice: thread pools start, first calls are made
        warnings.simplefilter('ignore')
        for cls in classes.values(): cls(k, random_state=seed).fit(X[:max(2_000, k)])
    load = _load()
    contenders = {name: (lambda cls: lambda r: cls(k, random_state=seed + r).fit(X))(cls) for name, cls in classes.items()}
    times, results = time_interleaved(contenders, repeat)
    inertias = {name: [sparse_inertia(X, m.cluster_centers_) for m in ms] for name, ms in results.items()}
    iters = {name: [m.n_iter_ for m in ms] for name, ms in results.items()}
    notes = [] if 'faiss' not in peers else ['faiss: skipped: faiss takes dense arrays only']
    return _rows('fit', 'fit', n, d, k, times, inertias, iters, notes, load)
