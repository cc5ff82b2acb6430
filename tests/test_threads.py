"""No fit changes the thread count of any thread: fits from a thread pool, tiny and large, leave every thread (the
pool's, fresh ones, the main thread) with PyTorch's default thread count, also under a passive wait policy, where a
small fit runs its own thread on one OpenMP thread (the training lesson)."""
import threading
import pytest
from concurrent.futures import ThreadPoolExecutor
import numpy as np
import torch
from kmeans_scratch import KMeans
from kmeans_scratch.init import _per_thread_counts


@pytest.mark.parametrize('policy', [None, 'PASSIVE'])
def test_fits_leave_every_thread_count_alone(policy, monkeypatch):
    if policy is None: monkeypatch.delenv('OMP_WAIT_POLICY', raising=False)
    else: monkeypatch.setenv('OMP_WAIT_POLICY', policy)  # read at each fit: small fits then lower their own thread's count
    expected = torch.get_num_threads()
    rng = np.random.default_rng(0)
    tiny, larger = rng.normal(size=(150, 2)), rng.normal(size=(20_000, 8)).astype(np.float32)

    def work(i):
        before = torch.get_num_threads()  # a pool thread's first torch call may overlap another thread's tiny fit
        KMeans(3, random_state=i).fit(tiny if i % 4 else larger, callback=lambda step: inside.append(torch.get_num_threads()))
        return before, torch.get_num_threads()

    inside = []
    with ThreadPoolExecutor(8) as pool:
        seen = list(pool.map(work, range(48)))
    assert all(b == a == expected for b, a in seen), seen
    lowered = policy is not None and _per_thread_counts() is not None
    assert set(inside) == ({1} if lowered else {expected}), set(inside)  # during the fits: one thread where the switch applies
    assert torch.get_num_threads() == expected

    fresh = []
    t = threading.Thread(target=lambda: fresh.append(torch.get_num_threads()))
    t.start(); t.join()
    assert fresh == [expected]


def test_concurrent_fits_agree_with_serial_ones():
    rng = np.random.default_rng(1)
    datasets = [rng.normal(size=(2_000, 4)) + 5 * rng.integers(0, 3, size=(2_000, 1)) for _ in range(6)]
    serial = [KMeans(3, random_state=0).fit(X).cluster_centers_ for X in datasets]
    with ThreadPoolExecutor(3) as pool:
        threaded = list(pool.map(lambda X: KMeans(3, random_state=0).fit(X).cluster_centers_, datasets))
    for a, b in zip(serial, threaded):
        np.testing.assert_array_equal(a, b)
