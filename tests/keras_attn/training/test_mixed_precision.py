"""apply_mixed_precision sets Keras' global dtype policy; float16 gets loss scaling."""

import keras
import numpy as np
import pytest

from keras_attn.training import MaskedSparseCategoricalCrossentropy, apply_mixed_precision


@pytest.fixture(autouse=True)
def restore_policy():
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize(
    "precision,policy",
    [(None, "float32"), ("float16", "mixed_float16"), ("bfloat16", "mixed_bfloat16")],
)
def test_sets_the_global_policy(precision, policy):
    assert apply_mixed_precision(precision) == policy
    assert keras.mixed_precision.dtype_policy().name == policy


def test_unknown_precision_is_an_error():
    with pytest.raises(ValueError, match="float8"):
        apply_mixed_precision("float8")


def test_float16_model_trains_with_loss_scaling_and_float32_loss():
    apply_mixed_precision("float16")
    model = keras.Sequential(
        [
            keras.Input((4,), dtype="int32"),
            keras.layers.Embedding(9, 8),
            keras.layers.Dense(9, dtype="float32"),  # float32 logits
        ]
    )
    model.compile(optimizer="adam", loss=MaskedSparseCategoricalCrossentropy())
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert model.layers[0].compute_dtype == "float16"
    x = np.random.default_rng(0).integers(0, 9, size=(16, 4))
    history = model.fit(x, x, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_float16_training_state_resumes(tmp_path, tiny_dataset):
    from keras_attn.training import TrainingRun
    from keras_attn.training.checkpointing import list_checkpoints

    apply_mixed_precision("float16")
    for epochs in (1, 2):
        run = TrainingRun(tmp_path, strategy="default", checkpoint_every_steps=2, jit_compile=False)
        with run.scope():
            model = keras.Sequential(
                [keras.Input((4,)), keras.layers.Dense(8), keras.layers.Dense(1, dtype="float32")]
            )
            model.compile(optimizer="adam", loss="mse")
        history = run.fit(model, tiny_dataset, epochs=epochs, verbose=0)
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
        assert len(history.history["loss"]) == 1  # the second run resumed at epoch 2
        # Steps are counted by the checkpoint, not by `optimizer.iterations`, which
        # loss scaling leaves behind when it skips a step with non-finite gradients.
        assert list_checkpoints(run.checkpoint_dir)[0]["global_step"] == 5 * epochs
