"""Attention rollout: where a Vision Transformer looks (`keras-attn vision explain`).

Rollout (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers",
https://arxiv.org/abs/2005.00928) follows attention through the layers: each
block's attention, averaged over heads, is mixed half-and-half with the
identity for the residual connection and renormalised, and the blocks'
matrices are multiplied. The class token's row (or, for a GAP model, the mean
row) over the patches is the heatmap.

The encoder stack returns every block's attention weights
(`return_attention_scores=True`), so no attention is reimplemented here.
"""

import os

import numpy as np
import tensorflow as tf
from keras import ops

from applications.vision.data import normalize, read_image


def attention_maps(backbone, images):
    """Every block's attention weights, `[(batch, heads, tokens, tokens), ...]` (the encoder
    stack returns them with `return_attention_scores=True`)."""
    _, maps = backbone.encoder(backbone.embed(images, training=False), return_attention_scores=True, training=False)
    return [np.asarray(ops.convert_to_numpy(weights), np.float64) for weights in maps]  # (B, N, T, T) each


def attention_rollout(backbone, images, head_fusion="mean"):
    """Rollout relevance of each patch, `(batch, rows, cols)`, each map scaled to [0, 1].

    Args:
        backbone: a `VisionTransformer`.
        images: `(batch, height, width, channels)`, normalised.
        head_fusion: `"mean"` or `"max"` over heads.

    Example:

    >>> import numpy as np
    >>> from applications.vision import VisionTransformer
    >>> backbone = VisionTransformer(image_size=8, patch_size=4, num_layers=2, hidden_dim=8,
    ...                              num_heads=2, intermediate_dim=16, num_channels=1)
    >>> attention_rollout(backbone, np.zeros((1, 8, 8, 1), "float32")).shape
    (1, 2, 2)
    """
    if head_fusion not in ("mean", "max"):
        raise ValueError(f"`head_fusion` must be 'mean' or 'max'. Received: head_fusion={head_fusion!r}")
    rollout = None
    for weights in attention_maps(backbone, images):
        fused = weights.mean(axis=1) if head_fusion == "mean" else weights.max(axis=1)  # (B, T, T)
        eye = np.eye(fused.shape[-1])[None]
        fused = 0.5 * fused + 0.5 * eye  # the residual path
        fused = fused / fused.sum(axis=-1, keepdims=True)
        rollout = fused if rollout is None else fused @ rollout
    prefix = backbone.num_prefix_tokens
    relevance = rollout[:, 0, prefix:] if prefix else rollout.mean(axis=1)  # (B, P)
    relevance = relevance.reshape(-1, *backbone.grid_shape)
    low = relevance.min(axis=(1, 2), keepdims=True)
    high = relevance.max(axis=(1, 2), keepdims=True)
    return (relevance - low) / np.maximum(high - low, 1e-12)


def save_heatmap(image, heatmap, path, title=""):
    """Save the image, and the image with `heatmap` ((rows, cols) in [0, 1],
    upsampled bilinearly) over it, side by side as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    height, width = image.shape[:2]
    upsampled = tf.image.resize(heatmap[..., None].astype("float32"), (height, width), method="bilinear")[..., 0].numpy()
    shown = np.clip(image / 255.0, 0.0, 1.0)
    shown = shown[..., 0] if shown.shape[-1] == 1 else shown[..., :3]
    cmap = "gray" if shown.ndim == 2 else None
    figure, (left, right) = plt.subplots(1, 2, figsize=(8, 4.3))
    left.imshow(shown, cmap=cmap, vmin=0.0, vmax=1.0)
    left.set_title("input")
    right.imshow(shown, cmap=cmap, vmin=0.0, vmax=1.0)
    right.imshow(upsampled, cmap="jet", alpha=0.5, vmin=0.0, vmax=1.0)
    right.set_title("attention rollout")
    for axes in (left, right):
        axes.axis("off")
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def explain(model, image_path, out_path=None, head_fusion="mean"):
    """Predict one image and save its attention-rollout heatmap.

    Args:
        model: a `ViTClassifier`.
        image_path: the image file.
        out_path: the PNG to write; defaults to `<image name>_rollout.png`
            in the current folder.

    Returns:
        dict with `input`, `label`, `probability`, `heatmap` (the PNG path)
        and `relevance` (the `(rows, cols)` map as nested lists).
    """
    from applications.skeleton.classification import softmax

    backbone = model.backbone
    raw = read_image(image_path, backbone.image_size, backbone.num_channels)  # (H, W, C) in [0, 255]
    images = np.asarray(normalize(raw[None]), np.float32)
    probabilities = softmax(model.predict(images, verbose=0))[0]
    best = int(np.argmax(probabilities))
    relevance = attention_rollout(backbone, images, head_fusion=head_fusion)[0]
    if out_path is None:
        out_path = os.path.splitext(os.path.basename(os.fspath(image_path)))[0] + "_rollout.png"
    title = f"{model.class_names[best]} ({probabilities[best]:.2f})"
    save_heatmap(raw, relevance, out_path, title=title)
    return {
        "input": os.fspath(image_path),
        "label": model.class_names[best],
        "probability": float(probabilities[best]),
        "heatmap": os.fspath(out_path),
        "relevance": relevance.round(4).tolist(),
    }
