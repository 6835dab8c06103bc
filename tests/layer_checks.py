"""The generic checks every public keras_attn layer passes.

`run_layer_checks` knows nothing about particular layers: it takes the class,
its constructor arguments and a dict of call inputs (argument name -> array)
and checks, in order:

1. `get_config` holds every `__init__` argument and `from_config` round-trips.
2. Eager and symbolic (functional) calls agree, and `compute_output_shape`
   matches the output.
3. `.keras` save and load under `safe_mode=True` reproduces the outputs.
4. One `fit` step with `jit_compile=True` runs and gives a finite loss, and
   `predict` under XLA equals the eager output.
5. Under the `mixed_float16` policy the output is float16 (or unchanged for
   non-float outputs) and finite.
"""

import inspect
import os
import tempfile

import keras
import numpy as np

# Arguments that every Keras layer takes through **kwargs; not checked here.
_BASE_ARGS = {"self", "kwargs", "args"}


def _as_list(outputs):
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _check_config(layer_cls, init_kwargs):
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    params = inspect.signature(layer_cls.__init__).parameters
    missing = [
        name
        for name, param in params.items()
        if name not in _BASE_ARGS
        and param.kind not in (param.VAR_KEYWORD, param.VAR_POSITIONAL)
        and name not in config
    ]
    assert not missing, f"{layer_cls.__name__}.get_config() lacks {missing}"
    clone = layer_cls.from_config(config)
    assert clone.get_config() == config
    # The config is JSON-serialisable as Keras saves it.
    keras.saving.serialize_keras_object(layer)


def _symbolic_model(layer, inputs, call_kwargs):
    symbolic = {
        name: keras.Input(shape=value.shape[1:], dtype=str(value.dtype), name=name)
        for name, value in inputs.items()
    }
    outputs = layer(**symbolic, **call_kwargs)
    return keras.Model(symbolic, outputs)


def _float_outputs(outputs):
    return [o for o in _as_list(outputs) if "float" in str(o.dtype)]


def run_layer_checks(
    layer_cls,
    init_kwargs,
    inputs,
    call_kwargs=None,
    expected_output_shape=None,
    run_training=True,
    atol=1e-5,
):
    """Run the generic checks; raise `AssertionError` on the first failure."""
    call_kwargs = call_kwargs or {}
    keras.utils.set_random_seed(0)

    # 1. Config round trip.
    _check_config(layer_cls, init_kwargs)

    # 2. Eager call, symbolic call, compute_output_shape.
    layer = layer_cls(**init_kwargs)
    eager = layer(**inputs, **call_kwargs)
    model = _symbolic_model(layer, inputs, call_kwargs)
    symbolic = model(inputs)
    for got, want in zip(_as_list(symbolic), _as_list(eager)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=atol)
    if expected_output_shape is not None:
        shapes = [tuple(o.shape) for o in _as_list(eager)]
        expected = (
            expected_output_shape
            if isinstance(expected_output_shape, list)
            else [expected_output_shape]
        )
        assert shapes == [tuple(s) for s in expected], shapes
    if not call_kwargs:
        input_shapes = {name: value.shape for name, value in inputs.items()}
        first = next(iter(input_shapes.values()))
        try:
            computed = layer.compute_output_shape(
                first if len(input_shapes) == 1 else input_shapes
            )
        except (NotImplementedError, TypeError):
            computed = None
        if computed is not None and not isinstance(computed, (list, dict)):
            if isinstance(computed[0], (tuple, list)) or computed[0] is None or isinstance(computed[0], int):
                got = tuple(_as_list(eager)[0].shape)
                if isinstance(computed[0], (tuple, list)):
                    computed = computed[0]
                assert tuple(computed) == got, (computed, got)

    # 3. .keras save and load with safe_mode=True.
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
        for got, want in zip(_as_list(loaded(inputs)), _as_list(eager)):
            np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=atol)

    # 4. XLA: predict and one fit step with jit_compile=True.
    float_out = _float_outputs(eager)
    if float_out:
        model.compile(optimizer="sgd", loss="mse", jit_compile=True)
        predicted = model.predict(inputs, batch_size=len(next(iter(inputs.values()))), verbose=0)
        for got, want in zip(_as_list(predicted), _as_list(eager)):
            np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=max(atol, 1e-4))
        if run_training and len(_as_list(eager)) == 1:
            target = np.zeros(tuple(eager.shape), "float32")
            batch = len(target)
            history = model.fit(inputs, target, batch_size=batch, epochs=1, verbose=0)
            assert np.isfinite(history.history["loss"][0])

    # 5. mixed_float16 through the layer's dtype policy (no global state).
    half = layer_cls(**init_kwargs, dtype="mixed_float16")
    half_out = half(**inputs, **call_kwargs)
    for out in _float_outputs(half_out):
        assert keras.backend.standardize_dtype(out.dtype) == "float16", out.dtype
        assert np.all(np.isfinite(np.asarray(out, "float32")))
    return eager
