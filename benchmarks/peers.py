"The libraries the benchmarks compare: one `Peer` record per library, in `REGISTRY`, instead of an if-chain per mode."
from __future__ import annotations
import importlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable
import numpy as np
import torch
from kmeans_scratch import KMeans
from kmeans_scratch.assign import assign_centroids
from kmeans_scratch.update import update_centroids

__all__ = ['Job', 'Peer', 'REGISTRY', 'load_peer']

@dataclass
class Job:
    "One problem, shared by every contender: the data, the common start, the fit settings, and the notes of the run."
    data: torch.Tensor                  # the points (n×d), on the CPU
    k: int                              # clusters
    seed: int = 0                       # seed of the fits (round `r` uses `seed + r`)
    start: torch.Tensor|None = None     # common starting centres (k×d) of the one-iteration comparisons
    device: str = 'cpu'                 # where our side runs
    tol: float = 1e-4                   # relative tolerance of the fits
    max_iter: int = 300                 # most iterations of the fits
    faiss_niter: int|None = None        # faiss's iterations in a fit; its own default (25) when None
    notes: list = field(default_factory=list) # 'name: text' lines for the report
    @cached_property
    def mean(self): return self.data.mean(0)
    @cached_property
    def xc(self): return (self.data - self.mean).to(self.device).contiguous()  # centred data, on the device
    @cached_property
    def cc(self): return (self.start - self.mean).to(self.device)             # centred start, on the device
    @cached_property
    def xcn(self): return self.xc.cpu().numpy()  # centred data for numpy peers (the same memory on the CPU)
    @cached_property
    def ccn(self): return self.cc.cpu().numpy()

@dataclass
class Peer:
    "How to drive one library. Each maker takes (module, job) and returns a function of the round `r`, or None."
    name: str                           # the name on the command line and in the report
    module: str                         # what to import
    about: Callable|None = None         # module -> one line for the report: version, threads
    step: Callable|None = None          # -> f(r): centred centres after one bare assignment and update from the start
    estimator: Callable|None = None     # -> f(r): centred centres of `KMeans(init=start, n_init=1, max_iter=1).fit`
    fit: Callable|None = None           # -> f(r): (centres, iterations) of a fit with default settings, seed `seed + r`
    memory_fit: Callable|None = None    # (module, data, k, seed, max_iter) -> iterations of one fit
    threads: Callable|None = None       # (module, n) -> None: use `n` threads

    def load(self):
        "Import the library if it is installed: (module or None, note)."
        try: return importlib.import_module(self.module), ''
        except ImportError as e: return None, f"skipped: {self.module} is not installed ({e})"

# ours
def _ours_step(mod, job:Job):
    sqnorm = (job.xc * job.xc).sum(1)  # ‖x‖² once, as `KMeans.fit` computes it once for all its iterations
    def ours(r):
        labels, dist = assign_centroids(job.cc, job.xc, sqnorm)
        return update_centroids(labels, job.xc, job.k, distances=dist)
    return ours

def _ours_estimator(mod, job:Job):
    x, start = job.data.to(job.device), job.start.to(job.device)
    return lambda r: KMeans(job.k, init=start, n_init=1, max_iter=1).fit(x).cluster_centers_.cpu() - job.mean

def _ours_fit(mod, job:Job):
    x = job.data.to(job.device)
    def ours(r):
        m = KMeans(job.k, n_init=1, tol=job.tol, max_iter=job.max_iter, random_state=job.seed + r).fit(x)
        return m.cluster_centers_.cpu(), m.n_iter_
    return ours

def _ours_memory(mod, data, k, seed, max_iter):
    return KMeans(k, n_init=1, max_iter=max_iter, random_state=seed).fit(data).n_iter_

# scikit-learn
def _sklearn_about(mod) -> str:
    import sklearn
    try:
        from sklearn.utils._openmp_helpers import _openmp_effective_n_threads
        threads = f"{_openmp_effective_n_threads()} OpenMP threads (BLAS limited to 1 inside KMeans, as it does)"
    except ImportError: threads = "default threads"
    return f"scikit-learn {sklearn.__version__}: {threads}"

def _sklearn_step(mod, job:Job):
    "scikit-learn's one-iteration Cython kernel, called as `KMeans.fit` calls it; its estimator if the kernel moved."
    xn, cn = job.xcn, job.ccn
    n, k = xn.shape[0], cn.shape[0]
    try:
        from sklearn.cluster._k_means_lloyd import lloyd_iter_chunked_dense
        from sklearn.utils._openmp_helpers import _openmp_effective_n_threads
        from threadpoolctl import threadpool_limits
    except ImportError:
        job.notes.append("sklearn: private kernel not found, timed KMeans(max_iter=1).fit instead")
        return lambda r: mod.KMeans(k, init=cn, n_init=1, max_iter=1, algorithm='lloyd').fit(xn).cluster_centers_
    weights, threads = np.ones(n, dtype=xn.dtype), _openmp_effective_n_threads()
    def sklearn_step(r):
        new, in_cluster = np.zeros_like(cn), np.zeros(k, dtype=xn.dtype)
        labels, shift = np.full(n, -1, dtype=np.int32), np.zeros(k, dtype=xn.dtype)
        with threadpool_limits(limits=1, user_api='blas'):
            lloyd_iter_chunked_dense(xn, weights, cn, new, in_cluster, labels, shift, threads)
        return new
    return sklearn_step

def _sklearn_estimator(mod, job:Job):
    xn, cn, mean = job.data.numpy(), job.start.numpy(), job.mean.numpy()
    return lambda r: mod.KMeans(job.k, init=cn, n_init=1, max_iter=1, algorithm='lloyd').fit(xn).cluster_centers_ - mean

def _sklearn_fit(mod, job:Job):
    xn = job.data.numpy()
    def sklearn_fit(r):
        m = mod.KMeans(job.k, n_init=1, tol=job.tol, max_iter=job.max_iter, random_state=job.seed + r, algorithm='lloyd').fit(xn)
        return m.cluster_centers_, m.n_iter_
    return sklearn_fit

def _sklearn_memory(mod, data, k, seed, max_iter):
    return mod.KMeans(k, n_init=1, max_iter=max_iter, random_state=seed, algorithm='lloyd').fit(data.numpy()).n_iter_

# faiss
def _faiss_step(mod, job:Job):
    "One `train` from the start, without subsampling (points per centroid raised) and without the NaN scan."
    xn, cn = job.xcn, job.ccn
    (n, d), k = xn.shape, job.k
    def faiss_step(r):
        km = mod.Kmeans(d, k, niter=1, max_points_per_centroid=n // k + 1, min_points_per_centroid=1,
                        check_input_data_for_NaNs=False)
        km.train(xn, init_centroids=cn)
        return km.centroids
    return faiss_step

def _faiss_fit(mod, job:Job):
    xn = job.data.numpy()
    kw = {} if job.faiss_niter is None else dict(niter=job.faiss_niter)
    def faiss_fit(r):
        km = mod.Kmeans(xn.shape[1], job.k, seed=job.seed + r, **kw)
        km.train(xn)
        return km.centroids, len(km.obj)
    return faiss_fit

def _faiss_all_fit(mod, job:Job):
    "faiss's default fit, but trained on every point (its default trains on at most 256 points per centroid)."
    xn = job.data.numpy()
    kw = {} if job.faiss_niter is None else dict(niter=job.faiss_niter)
    def faiss_all_fit(r):
        km = mod.Kmeans(xn.shape[1], job.k, seed=job.seed + r, max_points_per_centroid=xn.shape[0] // job.k + 1, **kw)
        km.train(xn)
        return km.centroids, len(km.obj)
    return faiss_all_fit

def _faiss_memory(mod, data, k, seed, max_iter):
    km = mod.Kmeans(data.shape[1], k, seed=seed, niter=min(max_iter, 25)); km.train(data.numpy())
    return len(km.obj)

# fast-pytorch-kmeans, on a GPU
def _fpk_fit(mod, job:Job):
    if torch.device(job.device).type != 'cuda':
        job.notes.append("fast-pytorch-kmeans: compared on a GPU only"); return None
    x = job.data.to(job.device)
    def fpk_fit(r):
        torch.manual_seed(job.seed + r)  # it draws its random start from the global generator
        m = mod.KMeans(n_clusters=job.k, mode='euclidean', max_iter=job.max_iter, tol=job.tol)
        m.fit_predict(x)
        return m.centroids.cpu(), None
    return fpk_fit

REGISTRY = {p.name: p for p in [
    Peer('ours', 'kmeans_scratch', step=_ours_step, estimator=_ours_estimator, fit=_ours_fit, memory_fit=_ours_memory),
    Peer('sklearn', 'sklearn.cluster', about=_sklearn_about, step=_sklearn_step, estimator=_sklearn_estimator,
         fit=_sklearn_fit, memory_fit=_sklearn_memory),
    Peer('faiss', 'faiss', about=lambda mod: f"faiss {mod.__version__}: {mod.omp_get_max_threads()} OpenMP threads",
         step=_faiss_step, fit=_faiss_fit, memory_fit=_faiss_memory, threads=lambda mod, n: mod.omp_set_num_threads(n)),
    Peer('faiss-all', 'faiss', about=lambda mod: f"faiss-all: faiss {mod.__version__} trained on every point", fit=_faiss_all_fit),
    Peer('fast-pytorch-kmeans', 'fast_pytorch_kmeans', about=lambda mod: f"fast-pytorch-kmeans {getattr(mod, '__version__', '')}",
         fit=_fpk_fit),
]}

def load_peer(
    name:str,              # a key of `REGISTRY`
):                         # (module or None, note)
    "Import a peer library if it is installed; otherwise None and the reason."
    if name not in REGISTRY: return None, f"unknown peer {name!r}; known: {', '.join(n for n in REGISTRY if n != 'ours')}"
    return REGISTRY[name].load()
