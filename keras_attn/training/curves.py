"""A PNG of the training curves, drawn from the CSV history of a run.

The CSV (written by `keras.callbacks.CSVLogger` with `append=True`) holds one
row per epoch across resumed runs; when a resumed run repeats an epoch, the last
row for it wins. Each metric gets one panel, its `val_` twin drawn with it.
Drawing uses matplotlib's Agg canvas directly, so no display and no global
backend change are needed.

Example:

>>> import os, tempfile
>>> folder = tempfile.mkdtemp()
>>> csv_path = os.path.join(folder, "history.csv")
>>> with open(csv_path, "w") as f:
...     _ = f.write("epoch,loss,val_loss\\n0,1.0,1.2\\n1,0.5,0.9\\n")
>>> png = write_training_curve(csv_path, os.path.join(folder, "curve.png"))
>>> os.path.getsize(png) > 0
True
"""

import csv
import math
import os


def read_history(csv_path):
    """`{metric: [(epoch, value), ...]}` from a CSV history, one value per epoch."""
    rows = {}
    with open(csv_path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row.get("epoch") in (None, "", "epoch"):
                continue
            try:
                epoch = int(float(row["epoch"]))
            except ValueError:
                continue
            rows[epoch] = row  # a repeated epoch (resumed run): the last row wins
    series = {}
    for epoch in sorted(rows):
        for key, value in rows[epoch].items():
            if key in (None, "epoch") or value in (None, ""):
                continue
            try:
                number = float(value)
            except ValueError:
                continue
            series.setdefault(key, []).append((epoch + 1, number))
    return series


def write_training_curve(csv_path, png_path, title=None):
    """Draw the curves of `csv_path` into `png_path`; return `png_path`, or
    `None` when the CSV is missing or empty."""
    if not os.path.exists(csv_path):
        return None
    series = read_history(csv_path)
    if not series:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    panels = []
    for name in series:
        base = name[4:] if name.startswith("val_") else name
        if base not in panels:
            panels.append(base)
    columns = min(3, len(panels))
    rows = math.ceil(len(panels) / columns)
    figure = Figure(figsize=(4.5 * columns, 3.2 * rows), layout="constrained")
    FigureCanvasAgg(figure)
    for index, base in enumerate(panels):
        axes = figure.add_subplot(rows, columns, index + 1)
        for name, label in ((base, "train"), ("val_" + base, "validation")):
            if name in series:
                epochs, values = zip(*series[name])
                axes.plot(epochs, values, marker="o", markersize=3, label=label)
        axes.set_title(base)
        axes.set_xlabel("epoch")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
        if len(axes.lines) > 1:
            axes.legend()
    if title:
        figure.suptitle(title)
    os.makedirs(os.path.dirname(os.path.abspath(png_path)), exist_ok=True)
    tmp = f"{png_path}.tmp-{os.getpid()}.png"
    figure.savefig(tmp, dpi=100)
    os.replace(tmp, png_path)
    return png_path
