"""No fit changes the thread count of any thread: fits from a thread pool, tiny and large, leave every thread (the
pool's, fresh ones, the main thread) with PyTorch's default thread count."""
import threading
from concurrent.futures import ThreadPoolExecutor
import numpy as np
import torch
from kmeans_scratch import KMeans


def test_fits_leave_every_thread_count_alone():
    expected = torch.get_num_threads()
    rng = np.random.default_rng(0)
    tiny, larger = rng.normal(size=(150, 2)), rng.normal(size=(20_000, 8)).astype(np.float32)

    def work(i):
        before = torch.get_num_threads()  # a pool thread's first torch call may overlap another thread's tiny fit
        KMeans(3, random_state=i).fit(tiny if i % 4 else larger)
        return before, torch.get_num_threads()

    with ThreadPoolExecutor(8) as pool:
        seen = list(pool.map(work, range(48)))
    assert all(b == a == expected for b, a in seen), seen
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
