"""`kmeans-scratch fit` launched by torchrun on 127.0.0.1: two gloo processes give the one-process answer, and ranks that see
different files all stop at once with one line each."""
import os, socket, subprocess, sys, time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS='1', OMP_WAIT_POLICY='PASSIVE')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _cli(*args:str, cwd:Path, launcher:list[str]=[], env:dict=ENV, timeout:float=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *launcher, '-m', 'kmeans_scratch.cli', *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _torchrun(nproc:int=2) -> list[str]:
    return ['-m', 'torch.distributed.run', f'--nproc_per_node={nproc}', '--master_addr', '127.0.0.1', '--master_port', str(_free_port())]


@pytest.fixture(scope='module')
def blobs(tmp_path_factory) -> Path:
    "A folder with 20,001 rows of five blobs in 3 columns (an odd count: the two shards differ by a row), and five starting centres."
    tmp = tmp_path_factory.mktemp('blobs')
    rng = np.random.default_rng(0)
    corners = rng.uniform(-20, 20, (5, 3)).astype(np.float32)
    X = corners[rng.integers(0, 5, 20_001)] + rng.normal(0, 1, (20_001, 3)).astype(np.float32)
    np.save(tmp/'blobs.npy', X)
    np.save(tmp/'start.npy', X[:5])
    return tmp


def _results(folder:Path) -> tuple[np.ndarray, np.ndarray]:
    return (np.loadtxt(folder/'labels.csv', skiprows=1, dtype=np.int32), np.loadtxt(folder/'centers.csv', delimiter=',', skiprows=1))


def test_two_processes_equal_one(blobs):
    "From the same starting centres, torchrun's two processes write the labels (in file order) and centres of one process."
    args = ['fit', 'blobs.npy', '--k', '5', '--init', 'start.npy', '--timeout', '60']
    one = _cli(*args, '--out', 'one', cwd=blobs)
    assert one.returncode == 0 and one.stderr == '', one.stderr
    two = _cli(*args, '--out', 'two', cwd=blobs, launcher=_torchrun())
    assert two.returncode == 0, two.stderr
    assert ', 2 processes' in two.stdout and two.stdout.count('kmeans-scratch 0') == 1  # rank 0 alone prints the summary
    assert 'Traceback' not in two.stderr and 'kmeans-scratch:' not in two.stderr  # rank 1 prints nothing
    (l1, c1), (l2, c2) = _results(blobs/'one'), _results(blobs/'two')
    assert len(l2) == 20_001
    np.testing.assert_array_equal(l2, l1)
    np.testing.assert_allclose(c2, c1, rtol=0, atol=1e-5 * np.abs(c1).max())
    assert sorted(p.name for p in (blobs/'two').iterdir()) == ['centers.csv', 'fit.png', 'labels.csv']


def test_two_processes_default_start(blobs):
    "With the default k-means++ (on a sample gathered from both ranks, not on every row), the same clusters and inertia."
    one = _cli('fit', 'blobs.npy', '--k', '5', '--out', 'one-pp', cwd=blobs)
    two = _cli('fit', 'blobs.npy', '--k', '5', '--out', 'two-pp', '--timeout', '60', cwd=blobs, launcher=_torchrun())
    assert one.returncode == two.returncode == 0, two.stderr
    inertia = [float(r.stdout.split('iterations, inertia ')[1].split(', ')[0].replace(',', '')) for r in (one, two)]
    assert abs(inertia[1] - inertia[0]) <= 1e-4 * inertia[0], inertia
    (l1, _), (l2, _) = _results(blobs/'one-pp'), _results(blobs/'two-pp')
    pairs = set(zip(l1.tolist(), l2.tolist()))
    assert len(pairs) == 5  # the same partition, the clusters perhaps numbered differently


def _launch_by_hand(folders:list[Path], *args:str, timeout:float=60) -> tuple[list[int], list[str], float]:
    "Start one rank in each folder with the variables torchrun sets: a launch whose ranks see different files under one name."
    port, t = _free_port(), time.monotonic()
    procs = [subprocess.Popen([sys.executable, '-m', 'kmeans_scratch.cli', *args], cwd=f, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=dict(ENV, RANK=str(r), LOCAL_RANK=str(r), WORLD_SIZE=str(len(folders)), MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port)))
             for r, f in enumerate(folders)]
    try: outs = [p.communicate(timeout=timeout) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None: p.kill()
    return [p.returncode for p in procs], [o + e for o, e in outs], time.monotonic() - t


@pytest.mark.parametrize('rows1, problem', [(900, 'the ranks see different files'), (1000, 'the ranks see different files'), (None, 'no such file')])
def test_ranks_see_different_files(tmp_path, rows1, problem):
    "Every rank stops with one line and exit status 2, at once (no wait for a timeout), without a traceback."
    folders = [tmp_path/'node0', tmp_path/'node1']
    for f in folders: f.mkdir()
    rng = np.random.default_rng(1)
    np.save(folders[0]/'f.npy', rng.random((1000, 2), np.float32))
    if rows1: np.save(folders[1]/'f.npy', rng.random((rows1, 2), np.float32))  # 1000 rows: the same shape, other numbers
    codes, outs, seconds = _launch_by_hand(folders, 'fit', 'f.npy', '--k', '3', '--out', 'out', '--timeout', '300')
    assert codes == [2, 2], outs
    for r, out in enumerate(outs):
        assert out.startswith(f'kmeans-scratch: rank {r}: f.npy: ') and out.count('\n') == 1 and 'Traceback' not in out, out
    assert problem in outs[0] + outs[1]
    assert seconds < 45  # far less than --timeout
    assert not any((f/'out').exists() for f in folders)


def test_csv_and_missing_launch(tmp_path):
    "A CSV under a launch, and --distributed without one: one line each, exit status 2."
    (tmp_path/'points.csv').write_text('x,y\n0,0\n1,1\n5,5\n6,6\n')
    codes, outs, _ = _launch_by_hand([tmp_path], 'fit', 'points.csv', '--k', '2')
    assert codes == [2] and outs[0] == ('kmeans-scratch: rank 0: points.csv: only .npy files can be clustered by several processes (torchrun); '
                                        'this is a .csv: save it with np.save\n'), outs
    env = {k: v for k, v in ENV.items() if k not in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')}
    res = _cli('fit', 'points.csv', '--k', '2', '--distributed', cwd=tmp_path, env=env)
    assert res.returncode == 2 and res.stderr.count('\n') == 1 and '--distributed needs the environment variables' in res.stderr, res.stderr


def test_starting_centres_missing_on_one_rank(tmp_path):
    "The same data on both ranks, the file of starting centres on rank 0 only: both stop with one line."
    folders = [tmp_path/'node0', tmp_path/'node1']
    X = np.random.default_rng(2).random((500, 2), np.float32)
    for f in folders:
        f.mkdir()
        np.save(f/'f.npy', X)
    np.save(folders[0]/'start.npy', X[:3])
    codes, outs, seconds = _launch_by_hand(folders, 'fit', 'f.npy', '--k', '3', '--init', 'start.npy', '--out', 'out', '--timeout', '300')
    assert codes == [2, 2], outs
    assert outs == ['kmeans-scratch: rank 0: start.npy: rank 1 could not read the starting centres (see its error); this rank stops too\n',
                    'kmeans-scratch: rank 1: start.npy: no such file\n'], outs
    assert seconds < 45
