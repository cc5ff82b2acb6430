"""Two gloo processes on 127.0.0.1, started by the tests: the distributed fit equals one process on the concatenated data,
with uneven shards, sample weights, the k-means|| start, and a rank killed mid-fit (the survivor fails within a minute)."""
import os, socket, subprocess, sys, textwrap, time
from pathlib import Path
import numpy as np
import pytest
import torch

from kmeans_scratch.data import generate_data
from kmeans_scratch.training import lloyd
from kmeans_scratch.streaming import fit_chunks
from kmeans_scratch.distributed import kmeans_parallel

ROOT = Path(__file__).resolve().parents[1]
N, D, K = 6000, 3, 5

WORKER = textwrap.dedent('''
    import datetime, os, sys, time, numpy as np, torch, torch.distributed as dist
    from kmeans_scratch.data import generate_data
    from kmeans_scratch.distributed import fit_distributed
    rank, port, out, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=2,
                            timeout=datetime.timedelta(seconds=30))
    _, data = generate_data(n_clusters=5, n_points=6000, n_features=3, seed=0, shuffle=True, dtype=torch.float64)
    weights = torch.rand(6000, generator=torch.Generator().manual_seed(1), dtype=torch.float64) + 0.1
    rows = slice(0, 5990) if rank == 0 else slice(5990, 6000)  # uneven: rank 1 nearly empty, 10 rows
    def fit(name, shard, **kw):
        try: c, labels, inertia, n_iter, why = fit_distributed(shard, 5, **kw)
        except Exception as e: print('failed at', time.time(), flush=True); print(name, 'ERROR', type(e).__name__, str(e).replace(chr(10), ' '), flush=True); return
        np.save(f'{out}/{name}-centres{rank}.npy', c.numpy()); np.save(f'{out}/{name}-labels{rank}.npy', labels)
        print(name, repr(inertia), n_iter, why, flush=True)
    if mode == 'fits':
        fit('uneven', data[rows], init=data[:5].clone(), max_iter=50, tol=0)
        from kmeans_scratch import KMeans  # the estimator, as a user writes it: KMeans(..., distributed=True).fit(this rank's rows)
        km = KMeans(5, init=data[:5].clone(), max_iter=50, tol=0, distributed=True).fit(data[rows])
        np.save(f'{out}/estimator-centres{rank}.npy', np.asarray(km.cluster_centers_)); np.save(f'{out}/estimator-labels{rank}.npy', np.asarray(km.labels_))
        print('estimator', repr(km.inertia_), km.n_iter_, None, flush=True)
        fit('weights', data[rows], init=data[:5].clone(), max_iter=50, tol=0, weights=weights[rows])
        fit('cosine', data[rows], init=data[:5].clone(), max_iter=50, tol=0, spherical=True)
        km = KMeans(5, init=data[:5].clone(), max_iter=50, tol=0, metric='cosine', distributed=True).fit(data[rows])
        np.save(f'{out}/estimator-cosine-centres{rank}.npy', np.asarray(km.cluster_centers_)); np.save(f'{out}/estimator-cosine-labels{rank}.npy', np.asarray(km.labels_))
        print('estimator-cosine', repr(km.inertia_), km.n_iter_, None, flush=True)
        import io; shown = io.StringIO()
        fit('progress', data[rows], init=data[:5].clone(), max_iter=3, tol=0, progress=shown)
        print('progress-lines', len(shown.getvalue().splitlines()), flush=True)
        fit('kmeans||', data[rows], init='k-means||', max_iter=50, tol=0, random_state=3)
        fit('kmeans||again', data[rows], init='k-means||', max_iter=50, tol=0, random_state=3)
        fit('sampled', data[rows], init='k-means++', max_iter=50, tol=0, random_state=3, n_init=2)  # k-means++ on a sample gathered from both
        bad = data.clone(); bad[5993, 1] = float('nan')  # in rank 1's shard: it raises, rank 0 is told
        fit('bad', bad[rows], init=data[:5].clone(), max_iter=50, tol=0)
        fit('after', data[rows], init=data[:5].clone(), max_iter=50, tol=0)  # the group still works after a clean failure
    if mode == 'kill':  # rank 1 dies at its second iteration, on data large enough to be mid-fit
        big = data.repeat(20, 1) + torch.randn(120000, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
        def die(step):
            if rank == 1 and step.iteration == 2: print('killed at', time.time(), flush=True); os.kill(os.getpid(), 9)
        fit('kill', big[:60000] if rank == 0 else big[60000:], init=data[:5].clone(), max_iter=10**6, tol=0, callback=die)
    dist.destroy_process_group()
''')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _launch(tmp_path, mode, timeout=120):
    "Start the two ranks; return (return codes, stdouts, stderrs, seconds)."
    (tmp_path / 'worker.py').write_text(WORKER)
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS='1', OMP_WAIT_POLICY='PASSIVE')
    port, t = _free_port(), time.monotonic()
    procs = [subprocess.Popen([sys.executable, str(tmp_path / 'worker.py'), str(r), str(port), str(tmp_path), mode],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for r in range(2)]
    try: outs = [p.communicate(timeout=timeout) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None: p.kill()
    return [p.returncode for p in procs], [o[0] for o in outs], [o[1] for o in outs], time.monotonic() - t


def _data():
    _, data = generate_data(n_clusters=5, n_points=N, n_features=D, seed=0, shuffle=True, dtype=torch.float64)
    return data


@pytest.fixture(scope='module')
def fits(tmp_path_factory):
    "One launch of the two ranks running every fit in turn: {name: (line of rank 0, line of rank 1)}, and the folder."
    tmp = tmp_path_factory.mktemp('fits')
    codes, outs, errs, _ = _launch(tmp, 'fits')
    assert codes == [0, 0], errs
    lines = [dict(l.split(' ', 1) for l in o.strip().splitlines() if not l.startswith('failed at')) for o in outs]
    return {name: (lines[0][name], lines[1][name]) for name in lines[0]}, tmp


def _check_equal_to_one_process(fits, name, weights=None, cosine=False):
    (line0, line1), tmp = fits[0][name], fits[1]
    data = _data()
    mean = data.mean(0)
    w = None if weights is None else weights / weights.max()
    if cosine:  # the in-memory cosine fit: unit rows, a unit start, spherical Lloyd, the inertia halved (1 − cos)
        data, mean = data / data.norm(dim=1, keepdim=True), torch.zeros(D, dtype=torch.float64)
        c_one, l_one, in_one, it_one, _ = lloyd(data, data[:K], weights=w, max_iter=50, tol=0, spherical=True)
        in_one /= 2
    else: c_one, l_one, in_one, it_one, _ = lloyd(data - mean, data[:K] - mean, weights=w, max_iter=50, tol=0)
    if weights is not None: in_one *= float(weights.max())
    c0, c1 = np.load(tmp / f'{name}-centres0.npy'), np.load(tmp / f'{name}-centres1.npy')
    np.testing.assert_array_equal(c0, c1)  # every rank holds the same centres
    np.testing.assert_allclose(c0, (c_one + mean).numpy(), rtol=1e-9, atol=1e-9 * float((c_one + mean).abs().max()))
    inertias = [float(l.split()[0]) for l in (line0, line1)]
    assert inertias[0] == inertias[1] and abs(inertias[0] - in_one) <= 1e-9 * in_one
    assert [int(l.split()[1]) for l in (line0, line1)] == [it_one] * 2
    labels = np.concatenate([np.load(tmp / f'{name}-labels0.npy'), np.load(tmp / f'{name}-labels1.npy')])
    np.testing.assert_array_equal(labels, l_one.numpy())


def test_uneven_shards_equal_one_process(fits):
    _check_equal_to_one_process(fits, 'uneven')


def test_estimator_distributed_equals_one_process(fits):
    "KMeans(distributed=True) on each rank's shard: the same answer as one process on all the data."
    _check_equal_to_one_process(fits, 'estimator')


def test_cosine_equals_one_process(fits):
    "metric='cosine' across two ranks: the in-memory cosine fit of all the rows from the same start, through fit_distributed and the estimator."
    _check_equal_to_one_process(fits, 'cosine', cosine=True)
    _check_equal_to_one_process(fits, 'estimator-cosine', cosine=True)


def test_progress_on_rank_0_only(fits):
    "Asked for on every rank, the progress lines (one per iteration) come from rank 0 alone."
    assert fits[0]['progress-lines'] == ('3', '0')


def test_sample_weight_equal_one_process(fits):
    weights = torch.rand(N, generator=torch.Generator().manual_seed(1), dtype=torch.float64) + 0.1
    _check_equal_to_one_process(fits, 'weights', weights=weights)


def test_kmeans_parallel_start(fits):
    tmp = fits[1]
    c0, c1 = np.load(tmp / 'kmeans||-centres0.npy'), np.load(tmp / 'kmeans||-centres1.npy')
    np.testing.assert_array_equal(c0, c1)
    np.testing.assert_array_equal(np.load(tmp / 'kmeans||again-centres0.npy'), c0)  # same random_state, same world size: same result
    data = _data()
    best = min(lloyd(data - data.mean(0), data[s * K:(s + 1) * K] - data.mean(0), max_iter=50)[2] for s in range(10))
    assert float(fits[0]['kmeans||'][0].split()[0]) <= best * 1.05  # as good as the best of 10 random starts


def test_kmeans_plusplus_on_a_gathered_sample(fits):
    tmp = fits[1]
    np.testing.assert_array_equal(np.load(tmp / 'sampled-centres0.npy'), np.load(tmp / 'sampled-centres1.npy'))
    assert fits[0]['sampled'][0] == fits[0]['sampled'][1]


def test_kmeans_parallel_one_process():
    data = _data()
    a = fit_chunks(data, K, init=kmeans_parallel, random_state=0, max_iter=50)
    b = fit_chunks(data, K, init=kmeans_parallel, random_state=0, max_iter=50)
    torch.testing.assert_close(a[0], b[0], rtol=0, atol=0)


def test_error_on_one_rank_stops_both(fits):
    line0, line1 = fits[0]['bad']
    assert line1.startswith('ERROR ValueError') and 'NaN first at row 3' in line1, line1
    assert line0.startswith('ERROR RuntimeError') and 'rank 1 failed' in line0, line0
    _check_equal_to_one_process(fits, 'after')


def test_killed_rank_is_an_error_not_a_hang(tmp_path):
    codes, outs, errs, took = _launch(tmp_path, 'kill', timeout=90)
    assert codes[1] == -9, errs[1][-2000:]
    assert 'kill ERROR RuntimeError' in outs[0] and 'processes failed' in outs[0], (outs[0], errs[0][-2000:])
    killed, failed = float(outs[1].split()[-1]), float(outs[0].split('failed at ')[1].split()[0])
    assert failed - killed < 60, f"the survivor took {failed - killed:.0f} s to fail after the other rank died"
