"""The installed `kmeans-scratch fit` command, run as a user runs it: the console script pip wrote, in a fresh process."""
import shutil, subprocess, sys, sysconfig
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest

CSV = "name,x,y\na,0.0,0.1\nb,0.2,0.0\nc,0.1,0.2\nd,10.0,10.1\ne,10.2,9.9\nf,9.9,10.0\n"


@pytest.fixture(scope='module')
def script() -> str:
    "Path of the installed `kmeans-scratch` console script."
    eps = entry_points(group='console_scripts', name='kmeans-scratch')
    assert [ep.value for ep in eps] == ['kmeans_scratch.cli:main'], "kmeans-scratch is not installed: pip install -e ."
    found = shutil.which('kmeans-scratch', path=sysconfig.get_path('scripts')) or shutil.which('kmeans-scratch')
    assert found, "the kmeans-scratch console script is not on the PATH: pip install -e ."
    return found


def run(script:str, *args:str, cwd:Path) -> subprocess.CompletedProcess:
    return subprocess.run([script, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_fit_csv(script, tmp_path):
    (tmp_path/'points.csv').write_text(CSV)
    res = run(script, 'fit', 'points.csv', '--k', '2', '--columns', 'x,y', '--out', 'out', cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ''  # progress lines go only to a terminal
    assert 'points.csv, 6 rows × 2 columns (x, y)' in res.stdout
    lines = (tmp_path/'out'/'labels.csv').read_text().splitlines()
    assert lines[0] == 'label' and len(lines) == 1 + 6
    labels = [int(l) for l in lines[1:]]
    assert labels[0] == labels[1] == labels[2] != labels[3] == labels[4] == labels[5]  # one label per row, in order
    centres = (tmp_path/'out'/'centers.csv').read_text().splitlines()
    assert centres[0] == 'x,y'
    got = np.array([[float(v) for v in l.split(',')] for l in centres[1:]])
    np.testing.assert_allclose(got[[labels[0], labels[3]]], [[0.1, 0.1], [10.033333333333, 10.0]], rtol=1e-6)
    assert (tmp_path/'out'/'fit.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_fit_npy_scaled_auto(script, tmp_path):
    rng = np.random.default_rng(0)
    blobs = np.concatenate([rng.normal(c, 0.1, size=(20, 3)) for c in (0, 5, 10)]) * [1, 1000, 1]
    np.save(tmp_path/'blobs.npy', blobs.astype(np.float32))
    res = run(script, 'fit', 'blobs.npy', '--k', 'auto', '--max-k', '5', '--scale', '--out', 'out', cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert '<- highest' in res.stdout and 'k=3 ' in res.stdout
    centres = np.loadtxt(tmp_path/'out'/'centers.csv', delimiter=',', skiprows=1)
    np.testing.assert_allclose(np.sort(centres[:, 1]), [0, 5000, 10000], atol=100)  # in the file's units, not standardised
    assert len((tmp_path/'out'/'labels.csv').read_text().splitlines()) == 1 + 60


@pytest.mark.parametrize('name, content, args, problem', [
    ('missing.csv', None, [], 'no such file'),
    ('ragged.csv', 'x,y\n1,2\n3,4,5\n', [], 'ragged rows: line 3 has 3 fields, the header has 2'),
    ('points.csv', CSV, ['--columns', 'x,y', '--k', '7'], 'has 6 row(s), fewer than the 7 clusters asked for'),
])
def test_fit_errors(script, tmp_path, name, content, args, problem):
    "Every error is tested through `main` in nbs/13_cli.ipynb; here, that the installed script reports a few as it should."
    if content is not None: (tmp_path/name).write_text(content)
    res = run(script, 'fit', name, '--k', '2', '--out', 'out', *args, cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.startswith(f'kmeans-scratch: {name}: ') and problem in res.stderr, res.stderr
    assert res.stderr.count('\n') == 1 and 'Traceback' not in res.stderr  # one line, no traceback
    assert not (tmp_path/'out').exists()


# runs `python -m kmeans_scratch.cli` and writes its peak resident memory (VmHWM: this process's own, not its parent's at the fork) to argv[1]
PEAK = ("import runpy, sys\nout = sys.argv.pop(1); sys.argv[0] = 'kmeans-scratch'\ntry: runpy.run_module('kmeans_scratch.cli', run_name='__main__')\n"
        "finally: open(out, 'w').write(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))")


def test_fit_npy_larger_than_the_budget_streams(tmp_path):
    "A 40 MB .npy with --memory-budget 8MiB is streamed from disk, and gives the labels and centres of the in-memory fit from the same start."
    rng = np.random.default_rng(0)
    n, corners = 5_000_000, np.array([[0, 0], [8, 0], [0, 8], [8, 8]], np.float32)
    X = corners[rng.integers(0, 4, n)] + rng.normal(0, 1, (n, 2)).astype(np.float32)
    np.save(tmp_path/'big.npy', X); np.save(tmp_path/'start.npy', X[:4])
    assert (tmp_path/'big.npy').stat().st_size > 40e6
    peak = {}
    for name, budget in (('memory', '1GiB'), ('streamed', '8MiB')):
        res = subprocess.run([sys.executable, '-c', PEAK, f'{name}.peak', 'fit', 'big.npy', '--k', '4', '--init', 'start.npy',
                              '--memory-budget', budget, '--out', name], cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0 and res.stderr == '', res.stderr
        assert ('streamed from disk (--memory-budget 8 MiB)' in res.stdout) == (name == 'streamed'), res.stdout
        peak[name] = int((tmp_path/f'{name}.peak').read_text()) / 1024  # MiB
    labels = {name: np.loadtxt(tmp_path/name/'labels.csv', skiprows=1, dtype=np.int32) for name in peak}
    centres = {name: np.loadtxt(tmp_path/name/'centers.csv', delimiter=',', skiprows=1) for name in peak}
    assert len(labels['streamed']) == n
    # the in-memory fit adds float32 sums, 1.25M rows per cluster, and its centres are ~2e-4 of the scale off the clusters' means: a row on a
    # boundary may go the other way (none with this seed; one in the lesson's example)
    assert (labels['streamed'] != labels['memory']).sum() <= 10
    exact = np.stack([X[labels['streamed'] == j].astype(np.float64).mean(0) for j in range(4)])  # each cluster's mean, summed in float64
    scale = np.abs(exact).max()
    np.testing.assert_allclose(centres['streamed'], exact, rtol=0, atol=1e-4 * scale)  # the streamed fit sums in float64: ~1e-7 of the scale
    np.testing.assert_allclose(centres['memory'], exact, rtol=0, atol=1e-3 * scale)
    assert peak['streamed'] < peak['memory'] - 100, peak  # the in-memory fit holds copies of the 40 MB; the streamed one, chunks of 8 MiB
