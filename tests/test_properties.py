"""Properties of K-Means that must hold on any data, checked with hypothesis.

Run with `pytest tests/test_properties.py` (about 10 s of CPU with the default 60 examples per property, a fixed set).
More examples, drawn at random: `KMEANS_EXAMPLES=1000 pytest tests/test_properties.py`. The checks lesson (nbs/15_guarantees.ipynb) runs these same functions.
"""
import math, os, warnings
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, example, given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from kmeans_scratch.init import INIT_METHODS
from kmeans_scratch.training import lloyd_iterations, lloyd
from kmeans_scratch.estimator import KMeans
from sklearn.exceptions import ConvergenceWarning

EXAMPLES = int(os.environ.get('KMEANS_EXAMPLES', 60))
# no example database, so that a run does not depend on earlier ones (hypothesis still keeps a small cache in .hypothesis/, git-ignored)
checked = settings(max_examples=EXAMPLES, deadline=None, database=None,
                   derandomize=EXAMPLES <= 60,  # the quick default run explores the same examples every time
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

@pytest.fixture(autouse=True, scope='module')
def one_thread():
    "The data here is tiny: one thread is fastest, and on a busy machine PyTorch's waiting pool threads slow it down many times."
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)

@st.composite
def problems(draw, max_n:int=40, max_d:int=4, max_k:int=6, weighted:bool|None=None):
    "A K-Means problem: data with duplicated rows, a scale and an offset, k, optional weights, a start method and a seed."
    n, d = draw(st.integers(1, max_n)), draw(st.integers(1, max_d))
    n_distinct = draw(st.integers(1, n))  # few distinct rows: duplicates are where empty clusters come from
    values = draw(arrays(np.float64, (n_distinct, d), elements=st.floats(-100, 100, allow_subnormal=False)))
    scale = draw(st.sampled_from([1e-3, 1., 1e3]))
    offset = draw(st.sampled_from([0., 1e3, 1e6]))
    X = values[draw(arrays(np.int64, n, elements=st.integers(0, n_distinct - 1)))] * scale + offset
    k = draw(st.integers(1, min(n, max_k)))
    weights = None
    if weighted if weighted is not None else draw(st.booleans()):
        weights = draw(arrays(np.float64, n, elements=st.sampled_from([0., 0.25, 1., 1., 3., 10.])))
        assume((weights > 0).sum() >= k)
    return dict(X=X, k=k, weights=weights, init=draw(st.sampled_from(sorted(INIT_METHODS))), seed=draw(st.integers(0, 2**32 - 1)))

# found by hypothesis: fewer distinct points than clusters, where relocating an empty cluster moves the centres
# although no label changes; the labels returned with those centres must then be recomputed
RELOCATION_WITHOUT_LABEL_CHANGE = dict(X=np.array([0.03] + [0.] * 13 + [-0.024] + [0.] * 7)[:, None], k=4,
                                       weights=np.full(22, 3.), init='farthest', seed=0)

def centred_problem(p):
    "Tensors for `lloyd_iterations`: centred data, weights, starting centres."
    X = torch.from_numpy(p['X'])
    w = None if p['weights'] is None else torch.from_numpy(p['weights'])
    X = X - X.mean(0)
    start = INIT_METHODS[p['init']](X, p['k'], torch.Generator().manual_seed(p['seed']), w)
    return X, w, start

def fit(p, **kw):
    "Fit `KMeans` on the problem `p`, ignoring the warning about fewer distinct points than clusters."
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return KMeans(p['k'], init=p['init'], random_state=p['seed'], **kw).fit(p['X'], sample_weight=p['weights'])

def sq_distances(X, C):
    "Exact squared distances (n×k) in float64, by differences: independent of the library's matmul expansion."
    return ((X[:, None, :] - C[None, :, :]) ** 2).sum(-1)

@checked
@given(problems())
@example(RELOCATION_WITHOUT_LABEL_CHANGE)
def test_inertia_never_rises(p):
    "The inertia of each iteration's assignment is at most the previous one's, and the final exact inertia at most the last."
    X, w, start = centred_problem(p)
    slack = 1e-9 * (1 + float(((X * X).sum(1) * (1 if w is None else w)).sum()))  # rounding of the matmul expansion
    previous = math.inf
    for step in lloyd_iterations(X, start, w, max_iter=50):
        assert step.inertia <= previous + slack, (step.iteration, step.inertia, previous)
        previous = step.inertia
    final = lloyd(X, start, w, max_iter=50)[2]
    assert final <= previous + slack

@checked
@given(problems(), st.integers(0, 2**32 - 1))
@example(RELOCATION_WITHOUT_LABEL_CHANGE, 0)
def test_labels_are_nearest_centres(p, new_seed):
    "Training labels and predictions are the argmin of the distances to the centres (up to rounding in ties)."
    m = fit(p)
    C = np.asarray(m.cluster_centers_)
    scale = 1 + np.abs(p['X'] - p['X'].mean(0)).max() ** 2 * p['X'].shape[1]
    for X, labels in [(p['X'], m.labels_), (new := p['X'] + np.random.default_rng(new_seed).normal(size=p['X'].shape), m.predict(new))]:
        D = sq_distances(X, C)
        chosen = D[np.arange(len(X)), labels]
        assert (chosen <= D.min(1) + 1e-9 * scale).all()
    D = np.asarray(m.transform(p['X'])) ** 2
    assert (D[np.arange(len(p['X'])), m.labels_] <= D.min(1) + 1e-9 * scale).all()

@checked
@given(problems())
@example(RELOCATION_WITHOUT_LABEL_CHANGE)
def test_centres_are_weighted_means(p):
    "After a strict convergence (tol=0), each centre with points of positive weight is their weighted mean."
    m = fit(p, tol=0, max_iter=100)
    assume(m.n_iter_ < 100)  # converged (a run that reaches max_iter keeps centres of the previous labels)
    X, w = p['X'], np.ones(len(p['X'])) if p['weights'] is None else p['weights']
    scale = 1 + np.abs(X).max()
    for j, c in enumerate(np.asarray(m.cluster_centers_)):
        mine = m.labels_ == j
        if w[mine].sum() == 0: continue
        mean = (X[mine] * w[mine, None]).sum(0) / w[mine].sum()
        np.testing.assert_allclose(c, mean, rtol=0, atol=1e-9 * scale)

@checked
@given(problems(), st.sampled_from([torch.float32, torch.float64]))
def test_no_centre_is_ever_nan(p, dtype):
    "Every iteration's centres, and the fitted centres, distances and inertia, are finite, even with duplicates and zero weights."
    X = torch.from_numpy(p['X']).to(dtype)
    w = None if p['weights'] is None else torch.from_numpy(p['weights']).to(dtype)
    Xc = X - X.mean(0)
    start = INIT_METHODS[p['init']](Xc, p['k'], torch.Generator().manual_seed(p['seed']), w)
    assert start.isfinite().all() and start.shape == (p['k'], X.shape[1])
    for step in lloyd_iterations(Xc, start, w, max_iter=30):
        assert step.centroids.isfinite().all(), step.iteration
    m = fit({**p, 'X': X, 'weights': w})
    assert m.cluster_centers_.isfinite().all() and m.cluster_centers_.shape == (p['k'], X.shape[1])
    assert m.transform(X).isfinite().all() and math.isfinite(m.inertia_)

def _fit_without_relocation(k, start, X, sample_weight=None):
    "Fit from `start` with tol=0; None when some update found an empty cluster (its relocation depends on the order of duplicates)."
    empty = []
    def watch(step): empty.append(bool((torch.bincount(step.labels, weights=step.weights, minlength=k) <= 0).any()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m = KMeans(k, init=start, tol=0, max_iter=50).fit(X, sample_weight=sample_weight, callback=watch)
    return None if any(empty) else m

@checked
@given(problems(weighted=False), st.data())
def test_integer_weights_are_repeats(p, draw):
    "From the same starting centres, integer weights give the centres of the data with each sample repeated that many times."
    repeats = draw.draw(arrays(np.int64, len(p['X']), elements=st.integers(0, 3)))
    assume((repeats > 0).sum() >= p['k'])
    start = p['X'][np.random.default_rng(p['seed']).choice(len(p['X']), p['k'], replace=False)]
    weighted = _fit_without_relocation(p['k'], start, p['X'], repeats.astype(np.float64))
    repeated = _fit_without_relocation(p['k'], start, np.repeat(p['X'], repeats, axis=0))
    assume(weighted is not None and repeated is not None)
    scale = 1 + np.abs(p['X']).max()
    np.testing.assert_allclose(weighted.cluster_centers_, repeated.cluster_centers_, rtol=0, atol=1e-9 * scale)

@checked
@given(problems(weighted=False), st.integers(0, 2**32 - 1), st.integers(1, 5))
def test_hand_set_centres_are_used(p, seed, k):
    "Centres set by hand, on a fitted or an unfitted model, are the centres `predict`, `transform` and `score` use."
    C = np.random.default_rng(seed).normal(size=(k, p['X'].shape[1])) * (1 + np.abs(p['X']).max())
    scale = 1 + max(np.abs(p['X']).max(), np.abs(C).max()) ** 2 * p['X'].shape[1]
    for m in (KMeans(k), fit({**p, 'k': min(k, len(p['X']))})):
        m.cluster_centers_, m.n_features_in_ = C, C.shape[1]
        D = sq_distances(p['X'], C)
        labels = np.asarray(m.predict(p['X']))
        assert (D[np.arange(len(labels)), labels] <= D.min(1) + 1e-9 * scale).all()
        np.testing.assert_allclose(np.asarray(m.transform(p['X'])) ** 2, D, rtol=1e-6, atol=1e-9 * scale)
        assert abs(-m.score(p['X']) - D.min(1).sum()) <= 1e-6 * (1 + D.min(1).sum()) + 1e-9 * scale * len(labels)

@checked
@given(problems(weighted=True), st.sampled_from([(np.float32, 1e30), (np.float64, 1e290)]))
def test_huge_weights_change_nothing(p, case):
    "Multiplying every weight by a constant near the top of the dtype's range gives the same labels and centres, and the inertia times that constant."
    dtype, big = case
    X = p['X'].astype(dtype)
    assume(np.isfinite(X).all())
    small = fit({**p, 'X': X})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        large = KMeans(p['k'], init=p['init'], random_state=p['seed']).fit(X, sample_weight=(p['weights'] * big).astype(dtype))
    # the same partition and the same centres, up to the numbering of the clusters: among exact duplicates, the rounding of
    # weights scaled by a constant can change which of several equal candidates a start or a relocation takes
    # (points of weight zero are left out: they pull no centre, and one equidistant from two centres that agree to
    # 1e-20 may take either; found by hypothesis)
    counted = p['weights'] > 0
    pairs = set(zip(small.labels_[counted].tolist(), large.labels_[counted].tolist()))
    assert len(pairs) == len({a for a, _ in pairs}) == len({b for _, b in pairs}), pairs
    for a, b in pairs:
        np.testing.assert_allclose(small.cluster_centers_[a], large.cluster_centers_[b], rtol=1e-5 if dtype == np.float32 else 1e-12,
                                   atol=1e-4 * (1 + np.abs(X).max()))
    assert math.isclose(large.inertia_ / big, small.inertia_, rel_tol=1e-4, abs_tol=1e-6 * (1 + np.abs(X).max()) ** 2)

@checked
@given(st.integers(2, 40), st.integers(1, 6), st.integers(0, 2**32 - 1), st.floats(0.2, 0.9), st.booleans(), st.sampled_from(sorted(INIT_METHODS)))
def test_sparse_is_dense(n, d, seed, density, weighted, init):
    "A sparse matrix gets the fit of the same matrix made dense (float64): the same labels, centres and inertia to 1e-9."
    import scipy.sparse as sp
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * (rng.random((n, d)) < density)  # real-valued, so that no two distances tie exactly
    k = int(rng.integers(1, n + 1)) if n < 6 else int(rng.integers(1, 7))
    w = rng.choice([0.5, 1., 3.], n) if weighted else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # all-zero rows are duplicates
        dense = KMeans(k, init=init, random_state=seed).fit(X, sample_weight=w)
        sparse = KMeans(k, init=init, random_state=seed).fit(sp.csr_matrix(X), sample_weight=w)
    pairs = set(zip(dense.labels_.tolist(), sparse.labels_.tolist()))  # the same partition (duplicate zero rows may swap numbers)
    assert len(pairs) == len({a for a, _ in pairs}) == len({b for _, b in pairs}), pairs
    assert math.isclose(sparse.inertia_, dense.inertia_, rel_tol=1e-9, abs_tol=1e-12)
