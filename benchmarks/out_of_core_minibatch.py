"""Exact out-of-core K-Means against mini-batch K-Means on a .npy file twice the memory limit (inertia against time).

Each fit runs in a child process inside a cgroup-v1 memory cgroup (needs root) limited to `--limit`; the file is `--size`.
The file's pages are dropped from the page cache before each fit (`posix_fadvise`), so that its reads start from the disk
and the cgroup's limit bounds the page cache the fit can use. The exact fit is `fit_chunks` on the path (k-means++ on a sample, Lloyd to `tol`), timed per iteration by its callback.
MiniBatchKMeans cannot take a path or stream a memmap (its `fit` reads X whole), so it is driven the way a user would:
`partial_fit` on batches of random rows of the memmap, advised MADV_RANDOM (with the default read-ahead each random row pulls in
a large block: `--probe` times a few such steps); the fit clock pauses at checkpoints while the exact inertia of its
centres on the whole file is measured with `predict_chunks` (not counted). Prints a markdown table, then JSON points.

    sudo python benchmarks/out_of_core_minibatch.py --size 1GiB --limit 512MiB --k 256 --json benchmarks/results/out_of_core_minibatch.json
    sudo python benchmarks/out_of_core_minibatch.py --keep-cache --probe 0 --json benchmarks/results/out_of_core_minibatch_cached.json
"""
from __future__ import annotations
import argparse, json, os, subprocess, sys, tempfile, textwrap, time
from pathlib import Path
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CGROUPS = Path('/sys/fs/cgroup/memory')

EXACT = '''
import sys, time, json, torch
from kmeans_scratch.streaming import fit_chunks
torch.manual_seed(0)
path, k, budget = sys.argv[1], int(sys.argv[2]), sys.argv[3]
points, t0 = [], time.perf_counter()
def cb(step): points.append((time.perf_counter() - t0, step.inertia))
c, labels, inertia, n_iter, why = fit_chunks(path, k, init='k-means++', tol=1e-4, max_iter=100, random_state=0, memory_budget=budget, callback=cb)
total = time.perf_counter() - t0
print(json.dumps(dict(points=points, inertia=inertia, n_iter=n_iter, why=why, seconds=total)))
'''

MINIBATCH = '''
import sys, time, json, numpy as np, torch
from kmeans_scratch.minibatch import MiniBatchKMeans
from kmeans_scratch.streaming import predict_chunks
path, k, budget, b = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
checkpoints, advice = [int(s) for s in sys.argv[5].split(',')], sys.argv[6]
X = np.load(path, mmap_mode='r')
if advice == 'random': X._mmap.madvise(__import__('mmap').MADV_RANDOM)  # no read-ahead: a random row costs one page, not 128 KiB or more
n, rng = X.shape[0], np.random.default_rng(0)
mb = MiniBatchKMeans(k, batch_size=b, random_state=0, compute_labels=False)
points, clock, evaluating = [], 0., 0
disk = lambda: int(open('/proc/self/io').read().split('read_bytes:')[1].split()[0])
for step in range(1, checkpoints[-1] + 1):
    t = time.perf_counter()
    rows = np.sort(rng.integers(0, n, 3 * b if step == 1 else b))  # the first batch also chooses the starts (init_size = 3·batch)
    mb.partial_fit(np.asarray(X[rows]))
    clock += time.perf_counter() - t
    if step in checkpoints:
        before = disk()
        inertia = predict_chunks(path, torch.as_tensor(mb.cluster_centers_), budget)[1]
        evaluating += disk() - before  # the measurement's reads are not the fit's
        points.append((clock, inertia, step))
read = int(open('/proc/self/io').read().split('read_bytes:')[1].split()[0])
print(json.dumps(dict(points=points, advice=advice, read_bytes=read - evaluating)))
'''


def _bytes(s:str) -> int:
    units = {'KiB': 2**10, 'MiB': 2**20, 'GiB': 2**30}
    for u, m in units.items():
        if s.endswith(u): return int(float(s[:-len(u)]) * m)
    return int(s)


def _write(path:Path, n:int, d:int, blobs:int, seed:int=0):
    "n float32 rows around `blobs` Gaussian centres, written a chunk at a time."
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((blobs, d)).astype(np.float32)
    out = np.lib.format.open_memmap(path, mode='w+', dtype=np.float32, shape=(n, d))
    for s in range(0, n, 1 << 18):
        m = min(1 << 18, n - s)
        out[s:s + m] = centres[rng.integers(blobs, size=m)] + rng.standard_normal((m, d), dtype=np.float32) * 0.6
    out.flush(); del out


def _evict(path:Path):
    "Drop the file's pages from the page cache (written by this process, outside the cgroup, they would otherwise stay cached)."
    fd = os.open(path, os.O_RDONLY)
    try: os.fsync(fd); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally: os.close(fd)


def _child(cgroup:Path, code:str, *args) -> dict:
    enter = f"open({str(cgroup / 'cgroup.procs')!r}, 'w').write(str(__import__('os').getpid()))\n"
    env = dict(os.environ, PYTHONPATH=os.environ.get('BENCH_PYTHONPATH', str(ROOT)), OMP_WAIT_POLICY='PASSIVE')
    r = subprocess.run([sys.executable, '-c', enter + textwrap.dedent(code), *map(str, args)], capture_output=True, text=True, env=env)
    if r.returncode != 0: raise RuntimeError(f"child failed ({r.returncode}):\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--size', default='1GiB'); p.add_argument('--limit', default='512MiB'); p.add_argument('--budget', default='128MiB')
    p.add_argument('--d', type=int, default=64); p.add_argument('--k', type=int, default=256); p.add_argument('--blobs', type=int, default=512)
    p.add_argument('--batch', type=int, default=4096); p.add_argument('--checkpoints', default='32,128,512,1024,2048,4096')
    p.add_argument('--dir', default=None); p.add_argument('--json', default=None)
    p.add_argument('--keep-cache', action='store_true', help="leave the file's pages in the page cache (as written) instead of dropping them before each fit")
    p.add_argument('--probe', type=int, default=8, help="steps of a mini-batch fit with the kernel's default read-ahead, timed alone")
    a = p.parse_args(argv)
    n = _bytes(a.size) // (4 * a.d)
    cgroup = CGROUPS / f'kmeans_scratch_bench_{os.getpid()}'
    cgroup.mkdir()
    try:
        (cgroup / 'memory.limit_in_bytes').write_text(str(_bytes(a.limit)))
        with tempfile.TemporaryDirectory(dir=a.dir) as tmp:
            path = Path(tmp) / 'big.npy'
            _write(path, n, a.d, a.blobs)
            evict = (lambda path: None) if a.keep_cache else _evict
            evict(path)
            exact = _child(cgroup, EXACT, path, a.k, a.budget)
            evict(path)
            mini = _child(cgroup, MINIBATCH, path, a.k, a.budget, a.batch, a.checkpoints, 'random')
            evict(path)
            probe = _child(cgroup, MINIBATCH, path, a.k, a.budget, a.batch, str(a.probe), 'normal') if a.probe else None
    finally:
        for _ in range(50):
            try: cgroup.rmdir(); break
            except OSError: time.sleep(0.1)
    best = exact['inertia']
    print(f"{n:,} × {a.d} float32 ({_bytes(a.size) / 2**30:.2f} GiB), K = {a.k}, "
          f"memory limit {a.limit}, streaming budget {a.budget}, mini-batches of {a.batch:,}\n")
    print("| method | fit time (s) | inertia | inertia / exact |\n|---|---:|---:|---:|")
    print(f"| exact (fit_chunks, {exact['n_iter']} iterations, stopped: {exact['why']}) | {exact['seconds']:.1f} | {best:.5g} | 1.0000 |")
    for t, inertia, step in mini['points']:
        print(f"| MiniBatchKMeans, {step:,} steps ({step * a.batch / n:.2f} passes) | {t:.1f} | {inertia:.5g} | {inertia / best:.4f} |")
    if probe:
        t, inertia, step = probe['points'][-1]
        print(f"\nWithout MADV_RANDOM (the kernel's read-ahead): {step} steps took {t:.1f} s ({t / step:.2f} s a step) and read "
              f"{probe['read_bytes'] / 2**30:.1f} GiB from the disk; with it, {mini['read_bytes'] / 2**30:.1f} GiB for all {mini['points'][-1][2]:,} steps.")
    out = dict(n=n, d=a.d, k=a.k, limit=a.limit, budget=a.budget, batch=a.batch, exact=exact, minibatch=mini, probe=probe)
    if a.json: Path(a.json).write_text(json.dumps(out))
    print(json.dumps(out))


if __name__ == '__main__': main()
