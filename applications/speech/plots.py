"""Pictures: a clip's log-mel spectrogram and the encoder's attention over it."""

import numpy as np


def log_mel_and_attention(model, clip, layer_index=-1):
    """`(log_mel (frames, mel_bins), attention (steps, steps))` of one float32 clip:
    the model's front end, and one encoder block's attention averaged over heads."""
    audio = np.asarray(clip, "float32")[None, :]  # (1, samples), unpadded
    features = model.front_end(audio)  # (1, F, M)
    weights = model.encoder.attention_weights(features, layer_index=layer_index)  # (1, H, S, S)
    return np.asarray(features[0], "float32"), np.asarray(weights[0], "float32").mean(axis=0)


def plot_log_mel_and_attention(model, clip, path, title=None, layer_index=-1):
    """Write a PNG with the log-mel spectrogram of `clip` over time and the
    attention map of encoder block `layer_index` (averaged over heads)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    log_mel, attention = log_mel_and_attention(model, clip, layer_index)
    figure, (top, bottom) = plt.subplots(1, 2, figsize=(10, 4), gridspec_kw={"width_ratios": [1.6, 1]})
    hop = model.front_end.hop_length / model.front_end.sample_rate
    image = top.imshow(log_mel.T, origin="lower", aspect="auto", cmap="magma",
                       extent=(0, log_mel.shape[0] * hop, 0, log_mel.shape[1]))
    top.set(xlabel="time (s)", ylabel="mel bin", title="log-mel spectrogram")
    figure.colorbar(image, ax=top)
    image = bottom.imshow(attention, cmap="viridis", origin="upper")
    bottom.set(xlabel="key step (20 ms)", ylabel="query step",
               title=f"attention, block {layer_index % model.encoder.num_layers} (head mean)")
    figure.colorbar(image, ax=bottom)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
