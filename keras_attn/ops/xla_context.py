"""Whether the function being traced will be compiled by XLA.

Attention picks its query block size by compiler: TensorFlow's graph
executor (oneDNN kernels, one op at a time) is fastest with large blocks,
XLA on CPU with small ones (`benchmarks/RESULTS.md`). The answer is read at
trace time, so it costs nothing at run time.

TensorFlow has no public question for "am I inside `jit_compile=True`": this
module asks the graph through `tensorflow.python` (the check TensorFlow's own
ops use), imported lazily so other backends never import TensorFlow.
`tests/keras_attn/ops/test_xla_context.py` fails if TensorFlow moves it.
"""

import keras


def compiling_with_xla():
    """`True` when the code being traced or run is compiled by XLA.

    JAX always compiles with XLA; TensorFlow only inside
    `tf.function(jit_compile=True)` (which `model.compile(jit_compile=True)`
    uses); other backends: `False`.

    Example:

    >>> from keras_attn.ops.xla_context import compiling_with_xla
    >>> compiling_with_xla() == (keras.backend.backend() == "jax")
    True
    """
    backend = keras.backend.backend()
    if backend == "jax":
        return True
    if backend != "tensorflow":
        return False
    from tensorflow.python.framework import ops as tf_ops  # noqa: PLC0415 (lazy: TensorFlow backend only)
    from tensorflow.python.ops import control_flow_util  # noqa: PLC0415

    return bool(control_flow_util.GraphOrParentsInXlaContext(tf_ops.get_default_graph()))
