"""The alignment heatmap of one translation (cross-attention, or the RNN's additive attention)."""

import matplotlib

matplotlib.use("Agg")  # files only; no display needed
import matplotlib.pyplot as plt  # noqa: E402


def _label(piece):
    return piece.replace("\u2581", " ").strip() or "\u2581"  # SentencePiece's word marker


def plot_alignment(source_pieces, target_pieces, weights, path, title=None):
    """Save a `(target, source)` attention matrix as a PNG heatmap; returns `path`.

    Rows are the target pieces (what each decoding step produced), columns
    the source pieces.
    """
    figure, axis = plt.subplots(figsize=(1 + 0.45 * len(source_pieces), 1 + 0.4 * len(target_pieces)))
    image = axis.imshow(weights, cmap="viridis", aspect="auto", vmin=0.0)
    axis.set_xticks(range(len(source_pieces)), [_label(p) for p in source_pieces], rotation=90)
    axis.set_yticks(range(len(target_pieces)), [_label(p) for p in target_pieces])
    axis.set_xlabel("source")
    axis.set_ylabel("translation")
    if title:
        axis.set_title(title)
    figure.colorbar(image, ax=axis, fraction=0.04)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
