"""The softmax family and threads: bit-identical results for any thread count (long rows
split across threads, columns, N-d), and concurrent calls from Python threads.  Thread
control itself (set/get_num_threads, OMP_NUM_THREADS, threadpoolctl) is in
common/test_threads.py; every function from eight Python threads in common/test_thread_safety.py."""

import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import fastsmce
from helpers import FUNCS, call, gen_inputs

pytestmark = pytest.mark.threads


DET_CASES = [
    ((4096, 100), -1, np.float32),
    ((4096, 100), -1, np.float64),
    ((3, 300001), -1, np.float32),      # long rows, fewer rows than threads: rows are split
    ((3, 300001), -1, np.float64),
    ((1, 1000003), -1, np.float32),
    ((1, 1000003), -1, np.float64),
    ((1000, 300), 0, np.float32),       # axis 0 of a C-ordered array
    ((3000, 17), 0, np.float32),        # columns 16 + 1 split across threads: one alone
    ((3000, 17), 0, np.float64),
    ((1000, 300), 0, np.float64),
    ((40, 30, 50), 1, np.float32),
]


@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("shape,axis,dtype", DET_CASES,
                         ids=[f"{'x'.join(map(str, s))}-axis{a}-{np.dtype(d).name}"
                              for s, a, d in DET_CASES])
def test_results_bit_identical_for_any_thread_count(name, shape, axis, dtype):
    rng = np.random.default_rng(zlib.crc32(repr((name, shape)).encode()))
    args = [g(shape) for g in gen_inputs(name, rng, dtype)]
    if name in ("softmax", "log_softmax", "logsumexp") and shape[-1] > 1000:
        args[0][:, :7000] = -np.inf   # a -inf block at the start of each long row
    results = []
    for t in (1, 2, 3, 1):
        fastsmce.set_num_threads(t)
        results.append(np.asarray(call(name, args, axis)))
    for t, r in zip((2, 3, 1), results[1:]):
        assert np.array_equal(results[0], r, equal_nan=True), f"threads=1 vs threads={t} differ"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_long_row_folded_across_threads_bit_identical(dtype):
    """a single long row is split across threads in chunks whose statistics are folded
    by fs_stats_fold: the fold must round as the one-thread kernel's (its FMA): 20 rows,
    where a fold compiled without FMA differed in 4 (avx2 / avx512, float64)"""
    rng = np.random.default_rng(197842)
    try:
        for _ in range(20):
            x = rng.standard_normal((1, 297842)).astype(dtype) * 3  # > 1 MiB: split
            res = []
            for t in (1, 2):
                fastsmce.set_num_threads(t)
                res.append((fastsmce.softmax(x), fastsmce.logsumexp(x)))
            assert np.array_equal(res[0][0], res[1][0]) and np.array_equal(res[0][1], res[1][1])
    finally:
        fastsmce.set_num_threads(None)


def test_row_of_more_than_256_chunks_bit_identical_and_accurate():
    """a float32 row of 2^24 + 70000 elements: the one-thread kernel keeps 256 chunk maxima
    and takes the max of the later chunks again; the split path keeps them all"""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, (1 << 24) + 70000), dtype=np.float32)
    x[0, -5:] = 9.0  # the row's max in the chunks past the 256th
    try:
        res = []
        for t in (1, 2):
            fastsmce.set_num_threads(t)
            res.append(fastsmce.softmax(x))
    finally:
        fastsmce.set_num_threads(None)
    assert np.array_equal(res[0], res[1])
    x64 = x.astype(np.float64)
    ref = np.exp(x64 - x64.max())
    ref /= ref.sum()
    np.testing.assert_allclose(res[0], ref, rtol=1e-6)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_big_float32_batch_bit_identical_1_vs_2_threads(name):
    """500 x 70000 float32 (140 MB): rows longer than L2, more rows than threads."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((500, 70000), dtype=np.float32)
    fastsmce.set_num_threads(1)
    a = getattr(fastsmce, name)(x)
    fastsmce.set_num_threads(2)
    b = getattr(fastsmce, name)(x)
    assert np.array_equal(a, b)


def test_more_threads_than_cores_still_correct_and_identical():
    x = np.random.default_rng(1).standard_normal((64, 5000))
    fastsmce.set_num_threads(1)
    ref = fastsmce.softmax(x)
    fastsmce.set_num_threads(17)
    assert np.array_equal(fastsmce.softmax(x), ref)


@pytest.mark.parametrize("threads", [1, 2])
def test_concurrent_calls_from_python_threads_match_serial(threads):
    fastsmce.set_num_threads(threads)
    rng = np.random.default_rng(11)
    inputs = []
    for name in FUNCS:
        for shape, dtype in (((64, 10), np.float32), ((2000, 100), np.float64),
                             ((3, 70001), np.float32), ((300, 257), np.float64)):
            args = [g(shape) for g in gen_inputs(name, rng, dtype)]
            for a in args:
                a.flags.writeable = False
            inputs.append((name, args))
    serial = [call(name, args, -1) for name, args in inputs]

    def work(k):
        bad = []
        order = list(range(len(inputs)))
        np.random.default_rng(k).shuffle(order)
        for _ in range(3):
            for i in order:
                name, args = inputs[i]
                if not np.array_equal(call(name, args, -1), serial[i], equal_nan=True):
                    bad.append((name, args[0].shape))
        return bad

    with ThreadPoolExecutor(max_workers=4) as ex:
        bad = [b for r in ex.map(work, range(8)) for b in r]
    assert not bad, bad
