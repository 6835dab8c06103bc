"""Benchmark 5: Vision Transformer training throughput (images/s).

`applications.vision.VisionTransformer` (built on keras_attn's encoder) vs
`keras_hub.models.ViTBackbone` of the same size, both returning every token
(`encode` on ours), trained on a mean-square loss of those tokens with plain
SGD; without and with XLA.

- ViT-Ti/16 at 224x224x3 (197 tokens, width 192, 12 layers, 3 heads, MLP 768), batch 8;
- a small ViT at 28x28x1 (Fashion-MNIST: patch 4, 50 tokens, width 64,
  4 layers, 4 heads, MLP 256), batch 64.
"""

import numpy as np

from common import LOG, modes, interleaved_median, make_train_step, rate_result

FULL = (
    dict(name="ViT-Ti/16, 224x224x3", image=224, channels=3, patch=16, width=192, layers=12, heads=3, mlp=768, batch=8),
    dict(name="small ViT, 28x28x1", image=28, channels=1, patch=4, width=64, layers=4, heads=4, mlp=256, batch=64),
)
QUICK = (dict(name="tiny ViT, 8x8x1", image=8, channels=1, patch=4, width=16, layers=1, heads=2, mlp=32, batch=2),)
TARGET = 1.0


def run(quick=False, repeats=5):
    try:
        from applications.vision.vision_transformer import VisionTransformer
    except ImportError as error:
        return f"applications.vision.VisionTransformer is not available ({error})"
    import keras
    import keras_hub
    import tensorflow as tf

    results = []
    for size in QUICK if quick else FULL:
        rng = np.random.default_rng(0)
        shape = (size["batch"], size["image"], size["image"], size["channels"])
        images = tf.constant(rng.uniform(-1, 1, size=shape).astype("float32"))
        for mode, jit_compile in modes(quick):
            keras.utils.set_random_seed(0)
            ours = VisionTransformer(
                image_size=size["image"], patch_size=size["patch"], num_layers=size["layers"],
                hidden_dim=size["width"], num_heads=size["heads"], intermediate_dim=size["mlp"],
                num_channels=size["channels"],
            )
            ours.build(shape)
            theirs = keras_hub.models.ViTBackbone(
                image_shape=shape[1:], patch_size=size["patch"], num_layers=size["layers"],
                num_heads=size["heads"], hidden_dim=size["width"], mlp_dim=size["mlp"],
            )
            steps = {
                "keras_attn": make_train_step(ours.encode, ours.trainable_variables, jit_compile),
                "keras_hub": make_train_step(theirs, theirs.trainable_variables, jit_compile),
            }
            times = interleaved_median({name: (lambda s: lambda: s(images))(s) for name, s in steps.items()}, repeats)
            LOG.info("5: %s %s: %s", size["name"], mode, times)
            results.append(
                rate_result(
                    "5", f"{size['name']} train step, batch {size['batch']}", mode,
                    size["batch"] / times["keras_attn"], size["batch"] / times["keras_hub"],
                    "keras_hub.models.ViTBackbone", "images/s", TARGET,
                )
            )
    return results
