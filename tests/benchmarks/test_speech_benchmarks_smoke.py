"""The speech benchmarks run end to end on tiny models (`--quick` sizes, no XLA, a budget
of a fraction of a second): the three number-phrase contenders train, the cached and the
recomputing decoders give the same tokens, the robustness table renders. Nothing about the
values is asserted: at this size they mean nothing."""

import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "applications"))

import speech_robustness  # noqa: E402
import speech_transcribe  # noqa: E402


def test_each_contender_trains_and_the_decoders_agree():
    for name in speech_transcribe.DEFAULT_CONTENDERS:
        predictor, trained = speech_transcribe.train_contender(name, 0.3, quick=True)
        assert trained["steps"] > 1 and math.isfinite(trained["loss"]), (name, trained)
    speed = speech_transcribe.run_speed(predictor, speech_transcribe.QUICK_SPEED, jit_compile=False)
    assert speed["agreement"] == 1.0 and speed["cached"] > 0 and speed["recompute"] > 0


def test_robustness_table():
    results = [dict(setting=setting, seed=seed, espeak_test=0.9, flite=0.3 + 0.1 * seed, steps=3, train_seconds=1.0)
               for setting in ("none", "speed") for seed in (0, 1)]
    table = speech_robustness.table(results).splitlines()
    assert len(table) == 4 and table[2].startswith("| none | 0.900 | 0.350 | 0.300 / 0.400 |")
    assert np.isfinite(float(table[3].split("|")[3]))
