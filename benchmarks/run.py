"The benchmark command: `python benchmarks/run.py --help`."
from __future__ import annotations
import argparse, os, subprocess, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for `benchmarks` (and `kmeans_scratch` if not installed)
from benchmarks.harness import blobs, gaussian_blobs, environment, set_threads, bench_iteration, bench_fit, bench_memory, format_memory, bench_sparse
from benchmarks.report import format_table

SHAPES = {  # named problems: points, features, clusters, data, peers, modes (each overridden by an explicit option)
    'ivf': dict(n=200_000, d=128, k=1024, data='gaussian', peers='faiss', modes='fit',
                about="vector-index training: 200,000 × 128, K = 1,024 (scikit-learn takes minutes here: add it with --peers)"),
    'embeddings': dict(n=100_000, d=768, k=100, data='gaussian', peers='sklearn,faiss,faiss-all', modes='fit',
                       about="sentence embeddings: 100,000 × 768, K = 100"),
    'ivf-large': dict(n=1_000_000, d=96, k=16_384, data='gaussian', peers='faiss', modes='fit', repeat=1,
                      about="vector-index training at scale: 1,000,000 × 96, K = 16,384 (one fit each; faiss trains on every point here, "
                            "since 256 per centroid exceeds N)"),
    'tfidf': dict(n=100_000, d=50_000, k=50, data='tfidf', peers='sklearn', modes='fit', repeat=3,
                  about="text features: a TF-IDF-like sparse matrix, 100,000 × 50,000 with 0.1%% of its entries stored, K = 50 "
                        "(scikit-learn only: faiss takes dense arrays)"),
}

def _parse(argv=None) -> argparse.Namespace:
    "The command-line options."
    p = argparse.ArgumentParser(prog='python benchmarks/run.py',
        description="Benchmark kmeans_scratch against scikit-learn and faiss on the same data, in one process; "
                    "prints median times, the inertia of each library's centres, and the ratios ours/peer.")
    p.add_argument('--shape', choices=list(SHAPES), help="a named problem: " + "; ".join(f"{k}: {v['about']}" for k, v in SHAPES.items()))
    p.add_argument('--n', type=int, help='points (default 100,000; 5,000,000 for memory)')
    p.add_argument('--d', type=int, help='features (default 32; 16 for memory)')
    p.add_argument('--k', type=int, help='clusters (default 64; 1024 for memory)')
    p.add_argument('--repeat', type=int, help='timed rounds; medians are reported (default 5)')
    p.add_argument('--fit-repeat', type=int, help='rounds for the fit mode (default: --repeat)')
    p.add_argument('--seed', type=int, default=0, help='seed of the data, the starting centres and the fits')
    p.add_argument('--data', choices=['box', 'gaussian', 'tfidf'],
                   help="box (default): centres uniform in a ±10 box, see --spread; gaussian: centres N(0, 1), points N(0, 0.6²) around them; "
                        "tfidf: a sparse TF-IDF-like matrix, see --density (fits only)")
    p.add_argument('--density', type=float, default=0.001, help='fraction of the entries stored, for --data tfidf (default 0.001)')
    p.add_argument('--spread', type=float, default=3., help='standard deviation of the box blobs, whose centres lie in a ±10 box (default 3)')
    p.add_argument('--modes', choices=['iteration', 'fit', 'both', 'memory'],
                   help="what to measure: one Lloyd iteration, a fit to convergence, both (default), or the peak memory of a fit")
    p.add_argument('--levels', default='step,estimator', help="iteration comparisons, comma-separated: step, estimator")
    p.add_argument('--peers', help="comma-separated peers: sklearn, faiss, faiss-all (trained on every point), fast-pytorch-kmeans; '' for none (default sklearn,faiss)")
    p.add_argument('--tol', type=float, default=1e-4, help='relative tolerance of the fits (default 1e-4)')
    p.add_argument('--max-iter', type=int, help='most iterations of the fits (default 300; 5 for memory, which peaks in the first few)')
    p.add_argument('--faiss-niter', type=int, help="faiss's iterations in the fit (default: faiss's own, 25)")
    p.add_argument('--device', default='cpu', help="where our side runs: cpu or cuda (default cpu)")
    p.add_argument('--omp-wait-policy', choices=['active', 'passive'],
                   help="rerun in a child process with this OMP_WAIT_POLICY (passive: steadier timings on a busy machine)")
    p.add_argument('--threads', type=int, help="give every library this many threads (default: each library's own default)")
    p.add_argument('--memory-libraries', default='ours', help="comma-separated libraries for --modes memory: ours, sklearn, faiss")
    a = p.parse_args(argv)
    shape = SHAPES.get(a.shape, {})
    for key, default in dict(n=None, d=None, k=None, data='box', peers='sklearn,faiss', modes='both', repeat=5).items():
        if getattr(a, key) is None: setattr(a, key, shape.get(key, default))
    return a

def _split(s:str) -> tuple: return tuple(x.strip() for x in s.split(',') if x.strip())

def _rerun_with(env:dict, argv:list):
    "Run this command again in a child process with `env` added, streaming its output: OpenMP reads its settings at load."
    child = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *argv], env={**os.environ, **env},
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in child.stdout: print(line, end='', flush=True)
    if child.wait(): raise SystemExit(child.returncode)

def main(argv=None):
    "Run the benchmarks chosen on the command line and print the report."
    a = _parse(argv)
    if a.omp_wait_policy and os.environ.get('OMP_WAIT_POLICY', '').lower() != a.omp_wait_policy:
        return _rerun_with(dict(OMP_WAIT_POLICY=a.omp_wait_policy), sys.argv[1:] if argv is None else argv)
    peers = _split(a.peers)
    if a.threads: set_threads(a.threads)
    print(environment(peers)); print()
    if a.modes == 'memory':
        n, d, k = a.n or 5_000_000, a.d or 16, a.k or 1024
        for lib in _split(a.memory_libraries):
            print(format_memory(bench_memory(n, d, k, a.seed, a.max_iter or 5, lib)), flush=True)
        return
    if a.data == 'tfidf':
        print(format_table(bench_sparse(a.n or 100_000, a.d or 50_000, a.density, a.k or 50, a.fit_repeat or a.repeat, a.seed, peers)), flush=True)
        return
    n, d, k = a.n or 100_000, a.d or 32, a.k or 64
    data = gaussian_blobs(n, d, k, a.seed) if a.data == 'gaussian' else blobs(n, d, k, a.seed, std=a.spread)
    if a.modes in ('iteration', 'both'):
        print(format_table(bench_iteration(k=k, repeat=a.repeat, seed=a.seed, peers=peers, levels=_split(a.levels),
                                           device=a.device, data=data)), end='\n\n', flush=True)
    if a.modes in ('fit', 'both'):
        print(format_table(bench_fit(k=k, repeat=a.fit_repeat or a.repeat, seed=a.seed, peers=peers, tol=a.tol,
                                     max_iter=a.max_iter or 300, faiss_niter=a.faiss_niter, device=a.device, data=data)), flush=True)

if __name__ == '__main__': main()
