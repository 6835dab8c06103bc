"""Benchmark 3: peak memory of one forward attention pass.

Each contender runs in a fresh subprocess (this file with `--worker`), which
builds one multi-head self-attention layer (batch 1, width 256, 8 heads, no
mask), runs one forward pass in a `tf.function` and reports its resident set
before the pass and its peak (VmHWM). The parent polls the child's resident
set and kills it past a cap (at most 12 GB, and 4 GB below what the machine
has free), so the attempts that need tens of GB fail fast instead of swapping;
those, and any ResourceExhaustedError/MemoryError, are reported as
"out of memory".

Contenders: keras_attn dense (the default path), keras_attn chunked
(`chunk_size=CHUNK_SIZE`), keras.layers.MultiHeadAttention.
"""

import json
import os
import subprocess
import sys
import time

from common import LOG, Result, memory_info

FULL = dict(width=256, heads=8, lengths=(4096, 8192, 16384, 32768))
QUICK = dict(width=32, heads=4, lengths=(64,))
CONTENDERS = ("keras_attn dense", "keras_attn chunked", "keras MHA")
CHUNK_SIZE = 256  # tuned: at 8192 and 32768 as fast as 512 and leaner; 1024+ costs more memory
CAP_BYTES = 12 * 2**30
TARGET_LENGTH, TARGET_RATIO = 8192, 4.0  # chunked at most 1/4 of keras MHA at 8192
BUDGET_LENGTH, BUDGET_BYTES = 32768, 8 * 2**30  # chunked completes under 8 GB


def _status_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def worker(contender, length, width, heads):
    """Runs in the child: one forward pass; prints a JSON line."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np
    import tensorflow as tf

    from keras_attn.layers import MultiHeadAttention

    key_dim = width // heads
    if contender == "keras MHA":
        layer = keras.layers.MultiHeadAttention(heads, key_dim)
    else:
        chunk = CHUNK_SIZE if contender == "keras_attn chunked" else None
        layer = MultiHeadAttention(heads, key_dim, chunk_size=chunk)
    layer.build((1, length, width), (1, length, width))
    inputs = tf.constant(np.random.default_rng(0).normal(size=(1, length, width)).astype("float32"))
    forward = tf.function(lambda x: layer(x, x))
    baseline = _status_kib("self", "VmRSS")
    start = time.perf_counter()
    try:
        output = forward(inputs)
        checksum = float(tf.reduce_sum(output))
        report = {"ok": bool(np.isfinite(checksum))}
    except (tf.errors.ResourceExhaustedError, MemoryError) as error:
        report = {"ok": False, "oom": True, "error": type(error).__name__}
    report.update(
        seconds=time.perf_counter() - start,
        baseline_kib=baseline,
        peak_kib=_status_kib("self", "VmHWM"),
    )
    sys.stdout.write(json.dumps(report) + "\n")


def _measure(contender, length, width, heads):
    cap = min(CAP_BYTES, memory_info().get("MemAvailable", 16 * 2**20) * 1024 - 4 * 2**30)
    command = [sys.executable, os.path.abspath(__file__), "--worker", contender, str(length), str(width), str(heads)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed, seen = False, 0
    while child.poll() is None:
        rss = _status_kib(child.pid, "VmRSS")
        if rss:
            seen = max(seen, rss)
            if rss * 1024 > cap:
                child.kill()
                killed = True
                break
        time.sleep(0.02)
    out, err = child.communicate()
    if killed:
        return {"ok": False, "oom": True, "error": f"exceeded the {cap / 2**30:.1f} GB cap", "peak_kib": seen}
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if lines:
        return json.loads(lines[-1])
    # Killed by the kernel or aborted by an allocator: no report.
    tail = err.strip().splitlines()[-1:] if err.strip() else [f"exit status {child.returncode}"]
    return {"ok": False, "oom": True, "error": f"crashed: {tail[0][:120]}", "peak_kib": seen}


def run(quick=False, repeats=1):
    size = QUICK if quick else FULL
    results = []
    for length in size["lengths"]:
        measured = {}
        for contender in CONTENDERS:
            measured[contender] = _measure(contender, length, size["width"], size["heads"])
            LOG.info("3: seq %d %s: %s", length, contender, measured[contender])
        keras_run = measured["keras MHA"]
        for contender in CONTENDERS[:2]:
            ours = measured[contender]
            both = ours["ok"] and keras_run["ok"]
            results.append(
                Result(
                    bench="3", case=f"peak RSS, seq {length}, {contender}", mode="no XLA",
                    ours=_gb(ours), theirs=_gb(keras_run), unit="GB peak RSS",
                    other="keras.layers.MultiHeadAttention",
                    advantage=keras_run["peak_kib"] / ours["peak_kib"] if both else None, target=None,
                    note=_describe(ours, "keras_attn") + "; " + _describe(keras_run, "keras"),
                )
            )
        chunked = measured["keras_attn chunked"]
        if length == TARGET_LENGTH and chunked["ok"] and keras_run["ok"]:
            # The process floor (TensorFlow runtime, ~0.8 GB) is in both peaks; the pass's own memory is not.
            ours_added, theirs_added = _added_gb(chunked), _added_gb(keras_run)
            results.append(
                Result(
                    bench="3", case=f"memory added by the pass, seq {length}, keras_attn chunked",
                    mode="no XLA", ours=ours_added, theirs=theirs_added, unit="GB over the process",
                    other="keras.layers.MultiHeadAttention", advantage=theirs_added / ours_added,
                    target=TARGET_RATIO,
                )
            )
        if length == BUDGET_LENGTH:
            under = chunked["ok"] and chunked["peak_kib"] * 1024 < BUDGET_BYTES
            results.append(
                Result(
                    bench="3", case=f"seq {length} completes under 8 GB, keras_attn chunked", mode="no XLA",
                    ours=_gb(chunked), theirs=_gb(keras_run), unit="GB peak RSS",
                    other="keras.layers.MultiHeadAttention", advantage=None, target=1.0,
                    met=bool(under and not keras_run["ok"]),
                    note=("keras MHA: out of memory" if not keras_run["ok"] else "keras MHA completed too"),
                )
            )
    return results


def _added_gb(report):
    return (report["peak_kib"] - report["baseline_kib"]) / 2**20


def _gb(report):
    return report["peak_kib"] / 2**20 if report.get("ok") else None


def _describe(report, who):
    if report.get("ok"):
        return (
            f"{who}: {report['seconds']:.1f} s, +{(report['peak_kib'] - report['baseline_kib']) / 2**20:.2f} GB "
            "over the process before the pass"
        )
    return f"{who}: out of memory ({report.get('error', '')})"


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "--worker":
    worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
