"""MultiWorkerMirroredStrategy: two worker processes on localhost (TF_CONFIG with
free ports) train the tiny model to the end through TrainingRun.fit. Both see
the same losses; only the chief (worker 0) writes: checkpoints, records and the
final model. Each worker gets its own out folder here so that the non-chief's
is seen to stay empty (a real job shares one folder)."""

import os

import pytest

EPOCHS, STEPS = 2, 4


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory, helpers):
    base = tmp_path_factory.mktemp("multi_worker")
    out_dirs = [str(base / "worker0"), str(base / "worker1")]
    results = helpers.run_workers(
        out_dirs,
        timeout=240,
        script_args=("--epochs", EPOCHS, "--steps-per-epoch", STEPS, "--checkpoint-every", 3),
    )
    return out_dirs, results, helpers


def test_two_workers_train_to_the_end(two_workers):
    out_dirs, results, helpers = two_workers
    outputs = [output for _, output in results]
    for returncode, output in results:
        assert returncode == 0, output[-4000:]
    chief, other = (helpers.parse_result(output) for output in outputs)
    assert chief["strategy"] == other["strategy"] == "multi-worker"
    assert chief["num_replicas"] == other["num_replicas"] == 2
    assert chief["jit_compile"] is False and other["jit_compile"] is False
    assert "jit_compile off" in outputs[0]
    assert chief["iterations"] == other["iterations"] == EPOCHS * STEPS
    assert len(chief["losses"]) == EPOCHS
    assert chief["losses"] == pytest.approx(other["losses"], rel=1e-6)
    assert chief["losses"][-1] < chief["losses"][0]


def test_only_the_chief_writes(two_workers):
    out_dirs, results, helpers = two_workers
    chief, other = (helpers.parse_result(output) for _, output in results)
    assert chief["is_chief"] is True and other["is_chief"] is False
    assert chief["model_path"] == os.path.join(out_dirs[0], "model.keras")
    assert other["model_path"] is None
    written = set(os.listdir(out_dirs[0]))
    assert {"checkpoints", "history.csv", "model.keras", "training_curve.png"} <= written
    assert sorted(os.listdir(os.path.join(out_dirs[0], "checkpoints")))[-1] == "ckpt-000000008.weights.h5"
    assert not os.path.exists(out_dirs[1]) or os.listdir(out_dirs[1]) == []
