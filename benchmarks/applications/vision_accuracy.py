"""Vision: Fashion-MNIST test accuracy after a fixed CPU time budget, ours vs keras-hub's ViTBackbone.

Data: the SHIPPED SUBSET `data/vision/fashion_mnist_subset.npz` (3,000 train /
1,000 test images, 28x28 greyscale, balanced; `applications.datasets`), not
the full 70,000-image set. The same uint8 arrays go through the vision
application's `training_pipeline` (cached, shuffled with seed 0, batch 64,
`drop_remainder`, pixels to [-1, 1], no augmentation) and
`evaluation_pipeline`. All 3,000 images train (no validation split).

Both contenders: the vision demo's size (4x4 patches -> 49 tokens + a class
token, 4 blocks, width 64, 4 heads, MLP 128, no dropout or stochastic depth),
the same head (`ViTClassifier`'s: the class token's final-norm output ->
dropout 0 -> zero-initialised Dense(10) in float32), the application's AdamW
(peak 2e-3, weight decay 0.05 with biases, norms, class token and position
tables excluded, global clip-norm 1.0) and its warm-up + cosine schedule,
planned over the time budget (see `budget.py`).

- ours: `applications.vision.ViTClassifier(VisionTransformer(...))`;
- keras-hub: `keras_hub.models.ViTBackbone(image_shape=(28, 28, 1), ...)`, its
  token 0 into the same head.

Train images/s: `timed_steps x batch / train_seconds`, the budget's own steps
(the data pipeline included: it is cached and cheap).
"""

import logging
import tempfile

import keras
import numpy as np
import tensorflow as tf

from budget import BudgetCosineSchedule, fit_for_budget, progress_variable

LOG = logging.getLogger("keras_attn.bench.applications")

FULL = dict(patch=4, layers=4, width=64, heads=4, mlp=128, batch=64, learning_rate=2e-3, train_images=None,
            test_images=None, xla=True)
QUICK = dict(patch=7, layers=1, width=16, heads=2, mlp=32, batch=32, learning_rate=2e-3, train_images=320,
             test_images=100, xla=False)  # quick: no XLA compile
EXCLUDED_FROM_DECAY = ["bias", "gamma", "beta", "class_token", "embeddings"]  # as the application


def _keras_hub_classifier(size, num_classes):
    import keras_hub

    backbone = keras_hub.models.ViTBackbone(
        image_shape=(28, 28, 1), patch_size=size["patch"], num_layers=size["layers"], num_heads=size["heads"],
        hidden_dim=size["width"], mlp_dim=size["mlp"], dropout_rate=0.0, attention_dropout=0.0,
        layer_norm_epsilon=1e-6, use_class_token=True, name="backbone",
    )
    images = keras.Input((28, 28, 1), name="images")
    tokens = backbone(images)  # (B, 1 + patches, C), after the final layer norm
    head = keras.layers.Dense(num_classes, kernel_initializer="zeros", dtype="float32", name="logits")
    logits = head(keras.layers.Dropout(0.0, name="head_dropout")(tokens[:, 0]))
    return keras.Model(images, logits, name="keras_hub_vit_classifier")


def _our_classifier(size, num_classes):
    from applications.vision.classifier import ViTClassifier
    from applications.vision.vision_transformer import VisionTransformer

    backbone = VisionTransformer(
        image_size=28, patch_size=size["patch"], num_layers=size["layers"], hidden_dim=size["width"],
        num_heads=size["heads"], intermediate_dim=size["mlp"], num_channels=1, pooling="token",
        dropout_rate=0.0, stochastic_depth_rate=0.0, name="backbone",
    )
    return ViTClassifier(backbone, num_classes=num_classes, dropout_rate=0.0, name="vit_classifier")


def _optimizer(size, progress):
    """The vision task's recipe (AdamW, clip 1, no decay on norms and embeddings), its schedule planned over the budget."""
    optimizer = keras.optimizers.AdamW(BudgetCosineSchedule(size["learning_rate"], progress, warmup_fraction=0.1),
                                       weight_decay=0.05, global_clipnorm=1.0)
    optimizer.exclude_from_weight_decay(var_names=EXCLUDED_FROM_DECAY)
    return optimizer


def run(budget_seconds, quick=False):
    from applications import datasets
    from applications.vision.data import evaluation_pipeline, training_pipeline

    size = QUICK if quick else FULL
    data = datasets.load_fashion_mnist()
    x_train, y_train = data["x_train"][: size["train_images"]], data["y_train"][: size["train_images"]]
    x_test, y_test = data["x_test"][: size["test_images"]], data["y_test"][: size["test_images"]]
    num_classes = len(data["class_names"])

    def unbatched(x, y):  # what `load_image_folder` yields: float32 [0, 255] (H, W, 1), int32 label
        return tf.data.Dataset.from_tensor_slices((x[..., None].astype("float32"), y.astype("int32")))

    steps_per_epoch = len(x_train) // size["batch"]
    contenders = {}
    for name in ("keras_attn", "keras_hub"):
        keras.utils.set_random_seed(0)
        train_ds = training_pipeline(unbatched(x_train, y_train), size["batch"], augment=False, seed=0)
        model = _our_classifier(size, num_classes) if name == "keras_attn" else _keras_hub_classifier(size, num_classes)
        progress = progress_variable()
        compile_classifier_like(model, _optimizer(size, progress), num_classes, jit_compile=size["xla"])
        LOG.info("vision %s: %d parameters, %d images, budget %.0f s.", name, model.count_params(), len(x_train),
                 budget_seconds)
        trained = fit_for_budget(model, train_ds, budget_seconds, steps_per_epoch=steps_per_epoch, progress=progress,
                                 out_dir=tempfile.mkdtemp(prefix=f"vision_{name}_"))
        trained["images_per_second"] = trained["steps_per_second"] * size["batch"]
        scores = model.evaluate(evaluation_pipeline(unbatched(x_test, y_test), 100), verbose=0, return_dict=True)
        LOG.info("vision %s: %s; test accuracy %.3f", name, trained, scores["accuracy"])
        contenders[name] = dict(trained, parameters=int(model.count_params()), accuracy=float(scores["accuracy"]),
                                top5_accuracy=float(scores["top5_accuracy"]))

    ours, theirs = contenders["keras_attn"], contenders["keras_hub"]
    setting = (f"Fashion-MNIST shipped subset ({len(x_train)} train images); ViT {size['patch']}x{size['patch']} "
               f"patches, {size['layers']} layers, width {size['width']}, {size['heads']} heads, MLP {size['mlp']}, "
               f"batch {size['batch']}")
    evaluated = f"{len(x_test)} test images"
    rows = [
        dict(task="vision", metric="test accuracy", ours=ours["accuracy"], theirs=theirs["accuracy"],
             better="higher", setting=setting, evaluated=evaluated),
        dict(task="vision", metric="train images/s", ours=ours["images_per_second"],
             theirs=theirs["images_per_second"], better="higher", setting=setting, evaluated="during the budget"),
    ]
    return rows, contenders


def compile_classifier_like(model, optimizer, num_classes, jit_compile=True):
    """Loss and metrics of `applications.vision.task.ImageClassificationTask`, as `vision train` compiles."""
    import types

    from applications.skeleton.task import TaskData
    from applications.vision.task import ImageClassificationTask

    data = TaskData(train=None, extras={"folder": types.SimpleNamespace(class_names=[str(i) for i in range(num_classes)])})
    loss, metrics = ImageClassificationTask().loss_and_metrics(None, data)
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, jit_compile=jit_compile)


if __name__ == "__main__":  # pragma: no cover - manual runs
    import sys

    logging.basicConfig(level=logging.INFO)
    print(run(float(sys.argv[1]) if len(sys.argv) > 1 else 5, quick="--quick" in sys.argv))
