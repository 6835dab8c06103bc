"""RESULTS.md, the PNG charts and results.json beside it."""

import json
import math
from pathlib import Path

ANALYSIS = Path(__file__).resolve().parent / "analysis.md"
GPU_RECORD = "gpu_results.json"  # written by benchmarks/gpu.py beside RESULTS.md
GPU_COMMAND = "KERAS_BACKEND=jax python benchmarks/gpu.py"
TITLES = {
    "1": "Multi-head attention training step (causal) vs keras.layers.MultiHeadAttention",
    "2": "Encoder block training step vs keras_hub.layers.TransformerEncoder",
    "3": "Peak memory of one forward attention pass (fresh process each)",
    "4": "Greedy decoding, tokens/s",
    "5": "ViT training, images/s vs keras_hub.models.ViTBackbone",
    "6": "Speech encoder forward, audio seconds per second vs keras_hub Whisper encoder",
}

METHOD = """\
How it is measured: both contenders in the same process (benchmark 3: a fresh
subprocess each), float32, the same sizes, the same initialisers and the
same inputs; each is warmed up (tracing/compiling), then the contenders
alternate for the given number of rounds (order flipped every round, so both
see the same background load) and the median is reported. Every timing
benchmark is run twice: both contenders without XLA (TensorFlow graph, oneDNN
kernels) and both with XLA (`jit_compile=True`). "Advantage" is keras_attn
over the other, > 1 meaning keras_attn is better: time ratio other/ours,
throughput ratio ours/other, memory ratio other/ours.
"""


def _fmt(value, digits=4):
    if value is None:
        return "—"
    if isinstance(value, float):
        if value == 0 or math.isnan(value):
            return f"{value}"
        return f"{value:.{digits}g}"
    return str(value)


def _met(result):
    met = result.met
    return "—" if met is None else ("yes" if met else "**no**")


def table(results):
    lines = [
        "| # | case | mode | keras_attn | other | unit | advantage | target | met |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        advantage = "—" if r.get("advantage") is None else f"{r['advantage']:.2f}x"
        target = "—" if r.get("target") is None else f">= {r['target']:g}x"
        if "met" in r and r.get("target") is not None:
            target = "yes/no"
        lines.append(
            f"| {r['bench']} | {r['case']} | {r['mode']} | {_fmt(r.get('ours'))} | {_fmt(r.get('theirs'))} "
            f"| {r['unit']} | {advantage} | {target} | {_met(r)} |"
        )
    return "\n".join(lines)


def summary(results, skipped):
    text = table(results)
    for number, reason in skipped.items():
        text += f"\nbenchmark {number} skipped: {reason}"
    return text


def charts(out_dir, results):
    """One bar chart per benchmark: advantage per case, with its target."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for number in sorted({r["bench"] for r in results}):
        rows = [r for r in results if r["bench"] == number and r.get("advantage") is not None]
        if not rows:
            continue
        labels = [f"{r['case']}\n{r['mode']}" for r in rows]
        values = [r["advantage"] for r in rows]
        colors = ["tab:green" if r.met in (True, None) else "tab:red" for r in rows]
        fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(rows)), 4.5))
        ax.bar(range(len(rows)), values, color=colors)
        for i, r in enumerate(rows):
            ax.text(i, values[i], f"{values[i]:.2f}x", ha="center", va="bottom", fontsize=8)
            if r.get("target") is not None:
                ax.hlines(r["target"], i - 0.4, i + 0.4, colors="black", linestyles="dashed")
        ax.axhline(1.0, color="gray", linewidth=0.8)
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels(labels, fontsize=7, rotation=30, ha="right")
        ax.set_ylabel("keras_attn advantage (x, > 1 is better)")
        ax.set_title(TITLES.get(number, number), fontsize=9)
        fig.tight_layout()
        path = Path(out_dir) / f"bench_{number}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path.name)
    return written


def save(out, results, facts, command, skipped, durations, quick=False):
    """The raw run beside the report (`results.json`), then the report itself."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    record = dict(results=results, facts=facts, command=command, skipped=skipped, durations=durations, quick=quick)
    (out.parent / "results.json").write_text(json.dumps(record, indent=1, default=str))
    return write(out, results, facts, command, skipped, durations, quick)


def render(out):
    """Rewrite RESULTS.md from the `results.json` beside it (e.g. after editing analysis.md)."""
    from common import Result

    out = Path(out)
    record = json.loads((out.parent / "results.json").read_text())
    results = [Result(r) for r in record["results"]]
    return write(out, results, record["facts"], record["command"], record["skipped"], record["durations"],
                 record["quick"])


def write(out, results, facts, command, skipped, durations, quick=False):
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    images = charts(out.parent, results)
    load_start = ", ".join(f"{x:.1f}" for x in facts["load_start"])
    load_end = ", ".join(f"{x:.1f}" for x in facts["load_end"])
    parts = [
        "# keras_attn benchmarks",
        "",
        "Generated by `benchmarks/run.py`; do not edit by hand (the notes come from `benchmarks/analysis.md`).",
        "",
        ("**Quick mode: tiny sizes, a smoke test of the suite, not a measurement.**\n" if quick else ""),
        f"- command: `{command}`",
        f"- date: {facts['date']}",
        f"- machine: {facts['cpus']} CPUs ({facts['cpu']}), {facts['ram_gb']} GB RAM, "
        f"{facts['gpus']} GPU(s); Python {facts['python']}, TensorFlow {facts['tensorflow']}, "
        f"Keras {facts['keras']}, keras-hub {facts['keras_hub']}",
        f"- load average (1, 5, 15 min) at start: {load_start}; at end: {load_end}"
        + (
            " — other processes were running on this machine, so absolute times are noisy; "
            "the interleaved medians keep the ratios fair"
            if max(facts["load_start"][0], facts["load_end"][0]) > 0.5 * facts["cpus"]
            else ""
        ),
        "- time per benchmark: " + ", ".join(f"{n}: {s:.0f} s" for n, s in durations.items()),
        "",
        METHOD,
        "## Results",
        "",
        table(results),
        "",
    ]
    for number, reason in skipped.items():
        parts.append(f"Benchmark {number} did not run: {reason}\n")
    notes = [r for r in results if r.get("note")]
    if notes:
        parts += ["### Details", ""]
        parts += [f"- {r['bench']} / {r['case']} / {r['mode']}: {r['note']}" for r in notes]
        parts.append("")
    if images:
        parts += ["## Charts", ""] + [f"![benchmark {name}]({name})" for name in images] + [""]
    parts += [gpu_markdown(_gpu_record(out)), ""]
    if ANALYSIS.exists() and not quick:
        parts += [ANALYSIS.read_text().strip(), ""]
    out.write_text("\n".join(parts))
    return out


def _gpu_record(out):
    path = Path(out).parent / GPU_RECORD
    return json.loads(path.read_text()) if path.exists() else None


def _ms(row, contender):
    if contender in row["failures"]:
        return row["failures"][contender]
    return _fmt(1e3 * row["times"][contender], 4) if contender in row["times"] else "—"


def _gb(row, contender):
    peak = row["peaks"].get(contender)
    return "—" if peak is None else _fmt(peak / 1e9, 3)


def _gpu_verdict(row, target):
    """(keras_attn's speed over keras' best, met) for one row of benchmarks/gpu.py."""
    times = row["times"]
    theirs = [times[name] for name in ("keras flash", "keras no flash") if name in times]
    ratio = min(theirs) / times["keras_attn"] if theirs and "keras_attn" in times else None
    ours_failed = "keras_attn" in row["failures"] and "keras flash" not in row["failures"]
    met = None if ratio is None and not ours_failed else (not ours_failed and ratio >= target)
    return ratio, met


def gpu_markdown(record):
    """The `## GPU` section of RESULTS.md from benchmarks/gpu.py's record (or `None`: not run yet)."""
    if record is None:
        return "\n".join([
            "## GPU",
            "",
            "Pending a GPU machine: no GPU was available to the sessions that ran this suite. "
            f"`{GPU_COMMAND}` (JAX, keras only; under 8 minutes on one GPU) writes this section: "
            "keras_attn `MultiHeadAttention` vs `keras.layers.MultiHeadAttention` with flash "
            "attention on and off, train step, causal and not, batch 8, width 1024, 16 heads, "
            "sequence 1k/4k/16k, bfloat16, with peak device memory.",
        ])
    facts, size = record["facts"], record["size"]
    lines = [
        "## GPU",
        "",
        ("**Smoke mode: tiny sizes, a check that the script runs, not a measurement.**\n" if record["smoke"] else ""),
        f"- command: `{record['command']}` ({record['seconds']:.0f} s)",
        f"- date: {facts['date']}; device: {facts['device']}"
        + (f", {facts['device_memory_gb']} GB" if "device_memory_gb" in facts else "")
        + f"; JAX {facts['jax']}, Keras {facts['keras']}, Python {facts['python']}",
        f"- train step (forward, backward, SGD) of self-attention, batch {size['batch']}, width {size['width']}, "
        f"{size['heads']} heads, `{record['dtype_policy']}`; median of {record['repeats']} interleaved rounds. "
        "Peak memory: XLA's buffer assignment of the compiled step. Target: keras_attn >= "
        f"{record['target']:g}x keras' best setting, and no out-of-memory where keras' flash path runs.",
        "",
        "| attention | seq | keras_attn (ms) | keras flash (ms) | keras no flash (ms) | vs keras' best | met "
        "| peak GB: keras_attn / flash / no flash | keras_attn kernel |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in record["rows"]:
        ratio, met = _gpu_verdict(row, record["target"])
        verdict = "—" if met is None or record["smoke"] else ("yes" if met else "**no**")
        lines.append(
            f"| {'causal' if row['causal'] else 'bidirectional'} | {row['length']} | {_ms(row, 'keras_attn')} "
            f"| {_ms(row, 'keras flash')} | {_ms(row, 'keras no flash')} "
            f"| {'—' if ratio is None else f'{ratio:.2f}x'} | {verdict} "
            f"| {_gb(row, 'keras_attn')} / {_gb(row, 'keras flash')} / {_gb(row, 'keras no flash')} | {row['route']} |"
        )
    if record["skipped"]:
        lines += ["", "Not run (time budget): " + "; ".join(record["skipped"])]
    return "\n".join(lines)


def write_gpu_section(out, record):
    """Replace the `## GPU` section of `out` (or start the file with it)."""
    out = Path(out)
    section = gpu_markdown(record).strip().split("\n")
    if not out.exists():
        out.write_text("\n".join(["# keras_attn benchmarks", ""] + section) + "\n")
        return out
    lines = out.read_text().split("\n")
    if "## GPU" in lines:
        start = lines.index("## GPU")
        stop = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        lines[start:stop] = section + [""]
    else:
        lines += [""] + section
    out.write_text("\n".join(lines))
    return out
