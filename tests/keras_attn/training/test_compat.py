"""keras_attn.training.compat: the Keras work-arounds for MultiWorkerMirroredStrategy.

`test_patch_is_still_needed` runs the two-worker job with one patch left out
and expects Keras' own failure. When it fails because training worked, Keras
has fixed that bug: drop the patch (or end `AFFECTED_VERSIONS` before this
version). test_multi_worker.py shows that training works with the patches.
"""

import keras
import pytest

from keras_attn.training import compat

EXPECTED_FAILURES = {
    "symbolic_build": "Attempt to convert a value (PerReplica",
    "scalar_reduce": "Invalid reduction dimension 0 for input with 0 dimensions",
}


def test_version_range():
    assert compat.is_affected("3.15.1")
    assert compat.is_affected("3.10.0")
    assert not compat.is_affected("2.15.0")
    assert not compat.is_affected("3.16.0")
    assert compat.is_affected("3.15.2.dev20260101")


def test_apply_is_idempotent_and_limited_to_affected_versions():
    first = compat.apply()
    assert compat.apply() == first == compat.applied()
    if compat.is_affected():
        assert first == set(compat.PATCH_NAMES)
    else:
        assert first == set()


@pytest.mark.parametrize("patch", compat.PATCH_NAMES)
def test_patch_is_still_needed(patch, tmp_path, helpers):
    if not compat.is_affected():
        pytest.skip(f"compat patches are not applied on Keras {keras.__version__}")
    results = helpers.run_workers(
        [str(tmp_path / "w0"), str(tmp_path / "w1")],
        timeout=180,
        extra_env={"KERAS_ATTN_SKIP_COMPAT": patch},
        script_args=("--epochs", 1, "--steps-per-epoch", 2, "--checkpoint-every", 0),
        stop_when=EXPECTED_FAILURES[patch],
    )
    outputs = "\n".join(output for _, output in results)
    if all(returncode == 0 for returncode, _ in results):
        pytest.fail(
            f"Keras {keras.__version__} trains under MultiWorkerMirroredStrategy without the "
            f"{patch!r} patch: Keras fixed this bug, so remove the patch from "
            "keras_attn/training/compat.py or end AFFECTED_VERSIONS before this version."
        )
    assert EXPECTED_FAILURES[patch] in outputs, (
        f"Without the {patch!r} patch training failed differently than expected:\n"
        + outputs[-4000:]
    )
