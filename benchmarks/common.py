"""What every benchmark shares: interleaved timing, train steps, machine facts.

Every comparison runs both contenders in the same process, same dtype
(float32), same sizes and the same inputs; each is warmed up (which also
traces/compiles it), then the contenders alternate for `repeats` rounds (the
order flips every round, so both see the same background load) and the median
is reported.
"""

import datetime
import logging
import os
import platform
import statistics
import time

LOG = logging.getLogger("keras_attn.bench")


class Result(dict):
    """One row of RESULTS.md.

    Keys: bench (e.g. "1"), case, mode ("XLA" / "no XLA" / ...), ours, theirs
    (absolute numbers), unit, other (the contender's name), advantage
    (> 1 means keras_attn is better: time ratio theirs/ours, throughput ratio
    ours/theirs, memory ratio theirs/ours), target (minimum advantage or None),
    note.
    """

    @property
    def met(self):
        if self.get("target") is not None and "met" in self:  # a yes/no target, decided by the benchmark
            return self["met"]
        if self.get("target") is None or self.get("advantage") is None:
            return None
        return self["advantage"] >= self["target"]


def time_ratio_result(bench, case, mode, ours, theirs, other, target=None, unit="s/step", note=""):
    """A row for two durations (lower is better)."""
    advantage = theirs / ours if ours and theirs else None
    return Result(bench=bench, case=case, mode=mode, ours=ours, theirs=theirs, unit=unit,
                  other=other, advantage=advantage, target=target, note=note)


def rate_result(bench, case, mode, ours, theirs, other, unit, target=None, note=""):
    """A row for two throughputs (higher is better)."""
    advantage = ours / theirs if ours and theirs else None
    return Result(bench=bench, case=case, mode=mode, ours=ours, theirs=theirs, unit=unit,
                  other=other, advantage=advantage, target=target, note=note)


def interleaved_median(contenders, repeats, warmup=2):
    """Median seconds per call of each `name -> fn()` (fn must block until done).

    All contenders are warmed up first; then every round runs each once, the
    order reversed every other round.
    """
    for name, fn in contenders.items():
        for _ in range(warmup):
            fn()
        LOG.debug("warmed up %s", name)
    times = {name: [] for name in contenders}
    names = list(contenders)
    for round_index in range(repeats):
        for name in names if round_index % 2 == 0 else reversed(names):
            start = time.perf_counter()
            contenders[name]()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def make_train_step(forward, variables, jit_compile, learning_rate=1e-4):
    """A compiled step: forward, mean-square loss, gradients, SGD update.

    `forward(*inputs)` returns a float tensor. Returns a blocking callable.
    """
    import tensorflow as tf

    @tf.function(jit_compile=jit_compile, reduce_retracing=True)
    def step(*inputs):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(forward(*inputs)))
        grads = tape.gradient(loss, variables)
        for variable, grad in zip(variables, grads):
            if grad is not None:  # (IndexedSlices from embedding lookups become dense)
                variable.assign_sub(learning_rate * tf.convert_to_tensor(grad))
        return loss

    return lambda *inputs: float(step(*inputs))


def modes(quick=False):
    """`(label, jit_compile)`: both contenders without XLA (TensorFlow graph,
    oneDNN kernels), then both with XLA; quick runs skip XLA's compile time."""
    return (("no XLA", False),) if quick else (("no XLA", False), ("XLA", True))


def machine_facts():
    """Machine, software and load, for the header of RESULTS.md."""
    import keras
    import tensorflow as tf

    facts = {"date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")}
    facts["cpus"] = os.cpu_count()
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    facts["cpu"] = cpu
    facts["ram_gb"] = round(memory_info().get("MemTotal", 0) / 2**20, 1)
    facts["python"] = platform.python_version()
    facts["tensorflow"] = tf.__version__
    facts["keras"] = keras.__version__
    try:
        import keras_hub

        facts["keras_hub"] = keras_hub.__version__
    except ImportError:
        facts["keras_hub"] = "not installed"
    facts["gpus"] = len(tf.config.list_physical_devices("GPU"))
    facts["load_start"] = os.getloadavg()
    return facts


def memory_info():
    """/proc/meminfo in KiB (empty off Linux)."""
    info = {}
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                name, value = line.split(":", 1)
                info[name] = int(value.split()[0])
    except OSError:
        pass
    return info
