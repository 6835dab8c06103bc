"""BucketedBias: the chunked kernel computes a relative-position bias block by block and
equals the dense kernel with the whole bias, outputs and gradients (the table's too),
without ever forming the (query, key) matrix."""

import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from keras_attn.layers.relative_position_bias import relative_position_bucket
from keras_attn.ops import BucketedBias
from keras_attn.ops import scaled_dot_product_attention as sdpa

HEADS, DIM, BUCKETS = 4, 8, 8


def _inputs(tq, tk, kv_heads, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(2, tq, HEADS, DIM)).astype("float32")
    k = rng.normal(size=(2, tk, kv_heads, DIM)).astype("float32")
    v = rng.normal(size=(2, tk, kv_heads, DIM)).astype("float32")
    table = rng.normal(size=(BUCKETS, HEADS)).astype("float32")
    return q, k, v, table


def _bucket(bidirectional):
    return lambda d: relative_position_bucket(d, bidirectional, num_buckets=BUCKETS, max_distance=12)


def _run(variables, bias_of, mask, causal, chunk_size):
    with tf.GradientTape() as tape:
        q, k, v, table = variables
        out = sdpa(q, k, v, mask=mask, bias=bias_of(table), is_causal=causal, chunk_size=chunk_size)
        loss = tf.reduce_sum(out * np.linspace(-1, 1, DIM, dtype="float32"))
    return out, [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]  # the table's: IndexedSlices


CASES = [
    dict(tq=13, tk=13, causal=True, mask=False, kv_heads=4, chunk=4, start=0),
    dict(tq=11, tk=17, causal=False, mask=True, kv_heads=2, chunk=5, start=0),
    dict(tq=3, tk=16, causal=False, mask=True, kv_heads=1, chunk=4, start=6),  # cached decoding: rows 6..8
    dict(tq=16, tk=16, causal=True, mask=True, kv_heads=4, chunk=8, start=0),
]


@pytest.mark.parametrize("case", CASES)
def test_chunked_equals_dense_with_the_whole_bias(case):
    q, k, v, table = _inputs(case["tq"], case["tk"], case["kv_heads"])
    mask = (np.random.default_rng(3).random((2, 1, case["tq"], case["tk"])) > 0.2) if case["mask"] else None
    if case["start"]:  # queries at positions start.. see the keys up to their own position
        mask = np.arange(case["tk"])[None, :] <= np.arange(case["tq"])[:, None] + case["start"]
    variables = [tf.Variable(x) for x in (q, k, v, table)]
    bias_of = lambda t: BucketedBias(t, _bucket(not case["causal"]), case["start"])  # noqa: E731
    dense_bias_of = lambda t: bias_of(t).dense(case["tq"], case["tk"])  # noqa: E731
    want, want_grads = _run(variables, dense_bias_of, mask, case["causal"], None)
    lazy_dense, lazy_grads = _run(variables, bias_of, mask, case["causal"], None)
    chunked, chunked_grads = _run(variables, bias_of, mask, case["causal"], case["chunk"])
    for out, grads in ((lazy_dense, lazy_grads), (chunked, chunked_grads)):
        np.testing.assert_allclose(out, want, atol=1e-5)
        for got, expected in zip(grads, want_grads):  # q, k, v and the table
            np.testing.assert_allclose(got, expected, atol=1e-4)
    assert np.abs(np.asarray(chunked_grads[3])).sum() > 0


def _graphs(graph, seen=None):
    """`graph` and every function graph inside it (while-loop bodies, custom gradients)."""
    seen = {} if seen is None else seen
    if id(graph) not in seen:
        seen[id(graph)] = graph
        for function in getattr(graph, "_functions", {}).values():  # TensorFlow's own record
            if hasattr(function, "graph"):
                _graphs(function.graph, seen)
    return list(seen.values())


def test_chunked_never_forms_the_whole_bias(monkeypatch):
    length, chunk = 128, 32
    q, k, v, table = _inputs(length, length, 4)
    shapes = []
    block = BucketedBias.block

    def spy_block(self, table, query_start, query_length, key_start, key_length):
        shapes.append((query_length, key_length))
        return block(self, table, query_start, query_length, key_start, key_length)

    def no_dense(self, query_length, key_length):
        raise AssertionError("the chunked path materialised the whole bias")

    monkeypatch.setattr(BucketedBias, "block", spy_block)
    monkeypatch.setattr(BucketedBias, "dense", no_dense)
    variables = [tf.Variable(x) for x in (q, k, v, table)]

    @tf.function(jit_compile=True)
    def step():
        return _run(variables, lambda t: BucketedBias(t, _bucket(True)), None, False, chunk)

    out, grads = step()
    assert shapes and set(shapes) == {(chunk, chunk)}  # traced once forward, once backward
    assert all(np.all(np.isfinite(np.asarray(g))) for g in grads)
    # No graph, loop bodies included, holds a tensor of length x length elements (the
    # buckets of the whole matrix would); the largest are q, k, v and their gradients.
    graphs = _graphs(step.get_concrete_function().graph)
    sizes = [
        int(np.prod(t.shape.as_list()))
        for graph in graphs
        for op in graph.get_operations()
        for t in op.outputs
        if t.shape.is_fully_defined()
    ]
    assert len(graphs) > 4 and max(sizes) == q.size < length * length


def test_a_one_column_table_is_shared_by_every_head():
    q, k, v, table = _inputs(6, 6, 4)
    variables = [tf.Variable(x) for x in (q, k, v, table[:, :1])]
    bias_of = lambda t: BucketedBias(t, _bucket(True))  # noqa: E731
    want, want_grads = _run(variables, lambda t: bias_of(t).dense(6, 6), None, False, None)
    got, grads = _run(variables, bias_of, None, False, 4)
    np.testing.assert_allclose(got, want, atol=1e-5)
    np.testing.assert_allclose(grads[3], want_grads[3], atol=1e-4)
    assert tuple(grads[3].shape) == (BUCKETS, 1)


def test_table_heads_must_match_query_heads():
    q, k, v, table = _inputs(4, 4, 4)
    with pytest.raises(ValueError, match="one column per query head"):
        sdpa(q, k, v, bias=BucketedBias(ops.convert_to_tensor(table[:, :3]), _bucket(True)))
    with pytest.raises(ValueError, match="rank 2"):
        BucketedBias(table[None], _bucket(True))
