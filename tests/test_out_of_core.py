"""A .npy file twice the size of the memory a process may use, fitted under that limit, with the in-memory answer.

The limit is a cgroup (v1, /sys/fs/cgroup/memory, which needs root); where one cannot be made, the test is skipped with a
message. The file is 1 GiB and the child process may use 512 MiB (importing the library takes about 400 of them); about a minute.
"""
import os, subprocess, sys, tempfile, textwrap, time
from pathlib import Path
import numpy as np
import pytest
import torch

from kmeans_scratch.streaming import fit_chunks
from kmeans_scratch.training import lloyd

LIMIT = 512 * 2**20
CGROUPS = Path('/sys/fs/cgroup/memory')
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cgroup():
    "A memory cgroup limited to LIMIT bytes (swap included where the kernel counts it), removed afterwards."
    path = CGROUPS / f'kmeans_scratch_test_{os.getpid()}'
    try:
        path.mkdir()
        (path / 'memory.limit_in_bytes').write_text(str(LIMIT))
        memsw = path / 'memory.memsw.limit_in_bytes'
        if memsw.exists(): memsw.write_text(str(LIMIT))
    except OSError as e:
        if path.exists(): path.rmdir()
        pytest.skip(f"cannot set a memory limit here (a memory cgroup under {CGROUPS} needs cgroup v1 and root): {e}")
    yield path
    for _ in range(50):  # the children have exited; the kernel may take a moment to empty the group
        try: path.rmdir(); break
        except OSError: time.sleep(0.1)


def _run(cgroup:Path, code:str, *args) -> subprocess.CompletedProcess:
    "Run `code` in a child process that first moves itself into `cgroup`."
    enter = f"open({str(cgroup / 'cgroup.procs')!r}, 'w').write(str(__import__('os').getpid()))\n"
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_WAIT_POLICY='PASSIVE')
    return subprocess.run([sys.executable, '-c', enter + textwrap.dedent(code), *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=300)


def _write_blobs(path:Path, n:int, d:int, k:int):
    "A .npy file of `n` float32 rows around `k` centres, written a chunk at a time (never all in memory)."
    rng = np.random.default_rng(0)
    centres = rng.uniform(-20, 20, (k, d)).astype(np.float32)
    out = np.lib.format.open_memmap(path, mode='w+', dtype=np.float32, shape=(n, d))
    for s in range(0, n, 1 << 20):
        m = min(1 << 20, n - s)
        out[s:s + m] = centres[rng.integers(k, size=m)] + rng.standard_normal((m, d), dtype=np.float32) * 3
    out.flush(); del out
    return centres


def test_fit_twice_the_memory_limit(cgroup):
    d, k = 32, 4
    n = 2 * LIMIT // (4 * d)  # the file is twice the limit
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / 'big.npy'
        _write_blobs(path, n, d, k)
        assert path.stat().st_size > 2 * LIMIT
        start = np.load(path, mmap_mode='r')[:k].copy()
        # reading the whole file into memory fails under the limit (killed, or a MemoryError)
        whole = _run(cgroup, "import sys, numpy as np; a = np.load(sys.argv[1]); print('read', a.shape)", path)
        assert whole.returncode != 0, f"the whole file was read under the limit: the limit does not hold ({whole.stdout})"
        fit = _run(cgroup, """
            import sys, numpy as np, torch
            from kmeans_scratch.streaming import fit_chunks
            start = torch.as_tensor(np.load(sys.argv[1], mmap_mode='r')[:4].copy())
            c, labels, inertia, n_iter, why = fit_chunks(sys.argv[1], 4, init=start, max_iter=2, tol=0, memory_budget='64MiB')
            np.save(sys.argv[2], c.numpy()); np.save(sys.argv[3], labels[:1000]); hwm = int(open('/proc/self/status').read().split('VmHWM:')[1].split()[0]) * 1024; print(inertia, n_iter, hwm)
            """, path, Path(tmp) / 'centres.npy', Path(tmp) / 'labels.npy')
        assert fit.returncode == 0, f"the streamed fit failed under a {LIMIT >> 20} MiB limit:\n{fit.stderr[-3000:]}"
        inertia = float(fit.stdout.split()[0])
        # the in-memory answer, in this (unlimited) process
        data = torch.from_numpy(np.load(path))
        mean = data.mean(0)
        c_mem, l_mem, in_mem, *_ = lloyd(data - mean, torch.from_numpy(start) - mean, max_iter=2, tol=0)
        del data
        centres = torch.from_numpy(np.load(Path(tmp) / 'centres.npy'))
        assert torch.allclose(centres, c_mem + mean, rtol=1e-4, atol=1e-4 * float((c_mem + mean).abs().max()))
        assert abs(inertia - in_mem) <= 1e-4 * in_mem
        assert (np.load(Path(tmp) / 'labels.npy') == l_mem[:1000].numpy()).mean() > 0.999
        # the cgroup's limit is the check: the fit ran to the end inside it, where reading the file whole was stopped. (Its peak resident
        # size, VmHWM, is not: it counts the pages of torch's own libraries and of the mapped file, which the kernel can drop.)
