"""The image-classification task: a ViT trained on a folder of class subfolders.

The defaults are the settings `make demo` proves on 28x28 Fashion-MNIST on a 2-core CPU
(`applications/vision/demo.py`): the `nano` size (4 blocks, width 64, 4 heads, feed-forward
128) with a patch fitted to the images (4x4 for 28x28), 15 epochs of batch 64, AdamW with a
peak learning rate of 2e-3 after 10 % linear warm-up, cosine decay, weight decay 0.05,
gradient clipping at norm 1, no dropout, no stochastic depth and no augmentation.
Augmentation is opt-in: `--augment` (random shifts and zooms) and `--flip` (horizontal
flips, which change the meaning of digits, text and many medical or satellite images).
Measured on real handwritten digits the project had not seen (3,000 training images at
28x28, 15 epochs): 76.2 % test accuracy with shifts, zooms and flips, 89.4 % without.

Fine-tuning: `--init` starts from a run folder or `.keras` file holding a ViT, or from a
keras-hub `ViTBackbone` preset (`keras_hub:<preset>`); a new zero-initialised head is
trained for the new classes (`--freeze-backbone`: the head only), and a different
`--image-size` interpolates the position embeddings.
"""

import math

from applications.skeleton.task import OptimizerRecipe, Task, TaskData
from applications.vision.sizes import SIZES, auto_patch_size

TASK_NAME = "image-classification"


def _image_size(value):
    if value is None or isinstance(value, (tuple, list)):
        return None if value is None else tuple(int(v) for v in value)
    return (int(value), int(value))


class ImageClassificationTask(Task):
    name = TASK_NAME
    family = "vision"
    sizes = SIZES
    recipe = OptimizerRecipe(
        optimizer="adamw", schedule="cosine", clip_norm=1.0, warmup_fraction=0.1,
        no_weight_decay=("bias", "gamma", "beta", "class_token", "embeddings"),
    )
    defaults = dict(
        size="nano", epochs=15, batch_size=64, learning_rate=2e-3, weight_decay=0.05, dropout_rate=0.0,
        validation_fraction=0.1,
        # The task's own settings.
        image_size=None, patch_size=None, pooling="token", stochastic_depth_rate=0.0, head_dropout_rate=0.0,
        augment=False, flip=False, freeze_backbone=False,
        # Python API only: gradient clipping (the recipe's norm) and shuffling (parity tests turn both off).
        gradient_clip_norm=1.0, shuffle=True,
    )
    defaults_note = (
        "The defaults are tuned for small images (28-64 px) and a few thousand images on a CPU "
        "(make demo: 0.80 test accuracy on Fashion-MNIST in about a minute); augmentation is opt-in."
    )

    # -- data -----------------------------------------------------------------------------

    def read_data(self, settings, run):
        from applications.vision.data import (
            ImageFolderError, image_dataset, scan_image_folder, split_indices, training_pipeline,
            evaluation_pipeline,
        )
        from applications.skeleton.init import parse_init

        folder = scan_image_folder(settings.data, skip_bad_files=settings.skip_bad_files)
        init = parse_init(settings.init)
        backbone = None
        if init is not None:
            with run.scope():
                backbone = init_backbone(init, _image_size(settings.image_size))
        image_size, channels = self._geometry(settings, folder, backbone)
        if settings.validation_data:
            held = scan_image_folder(settings.validation_data, skip_bad_files=settings.skip_bad_files)
            unknown = sorted(set(held.class_names) - set(folder.class_names))
            if unknown:
                raise ImageFolderError(
                    f"--validation-data {settings.validation_data} has class folder(s) the training data lacks: "
                    f"{unknown}"
                )
            train_paths, train_labels = folder.paths, folder.labels
            validation_paths = held.paths
            validation_labels = [folder.class_names.index(held.class_names[label]) for label in held.labels]
        else:
            train_index, validation_index = split_indices(len(folder.paths), settings.validation_fraction,
                                                          settings.seed)
            train_paths = [folder.paths[i] for i in train_index]
            train_labels = [folder.labels[i] for i in train_index]
            validation_paths = [folder.paths[i] for i in validation_index]
            validation_labels = [folder.labels[i] for i in validation_index]
        global_batch = run.global_batch_size(settings.batch_size)
        steps_per_epoch = len(train_paths) // global_batch
        if steps_per_epoch < 1:
            raise ImageFolderError(
                f"{len(train_paths)} training images make no full batch of {global_batch} "
                f"({settings.batch_size} per replica x {run.num_replicas}); lower --batch-size."
            )
        train = training_pipeline(
            image_dataset(train_paths, train_labels, image_size, channels), global_batch,
            augment=settings.augment, flip=settings.flip, seed=settings.seed, shuffle=settings.shuffle,
        )
        validation = None
        if validation_paths:
            validation = evaluation_pipeline(
                image_dataset(validation_paths, validation_labels, image_size, channels), global_batch, cache=True
            )
        return TaskData(
            train=train, validation=validation, steps_per_epoch=steps_per_epoch,
            num_train_examples=len(train_paths),
            preprocessing={"image_size": list(image_size), "num_channels": channels, "pixels": "[-1, 1]",
                           "class_names": list(folder.class_names)},
            extras={"folder": folder, "backbone": backbone, "image_size": image_size, "channels": channels},
        )

    def _geometry(self, settings, folder, backbone):
        """`(image_size, channels)` of the run: the init backbone's, or the folder's."""
        from applications.skeleton.errors import FlagError

        if backbone is not None:
            return tuple(backbone.image_size), backbone.num_channels
        patch = self._patch_size(settings, _image_size(settings.image_size) or folder.image_size)
        image_size = _image_size(settings.image_size)
        if image_size is None:  # the folder's most common size, rounded up to whole patches
            image_size = tuple(max(patch, math.ceil(side / patch) * patch) for side in folder.image_size)
        elif image_size[0] % patch or image_size[1] % patch:
            fits = [p for p in (2, 4, 8, 14, 16, 32) if image_size[0] % p == 0 and image_size[1] % p == 0]
            raise FlagError(
                f"--image-size {image_size[0]}x{image_size[1]} is not a multiple of the patch size {patch}; "
                f"patch sizes that fit: {fits or 'none'} (e.g. --size {settings.size.split('/')[0]}/{fits[-1] if fits else 2})"
            )
        return image_size, folder.num_channels

    def _patch_size(self, settings, image_size):
        dimensions = self.sizes.decode(settings.size, patch_size=settings.patch_size)
        return dimensions["patch_size"] or auto_patch_size(image_size)

    def model_config(self, settings, data):
        backbone = data.extras.get("built_backbone")
        if backbone is None:
            return {}
        config = backbone.get_config()
        return {key: config[key] for key in ("image_size", "patch_size", "num_layers", "hidden_dim", "num_heads",
                                             "intermediate_dim", "num_channels", "pooling")}

    # -- model ----------------------------------------------------------------------------

    def build_model(self, settings, data, init):
        from applications.vision.classifier import ViTClassifier
        from applications.vision.vision_transformer import VisionTransformer

        backbone = data.extras["backbone"]
        if backbone is None:
            dimensions = self.sizes.decode(
                settings.size, num_layers=settings.num_layers, hidden_dim=settings.hidden_dim,
                num_heads=settings.num_heads, intermediate_dim=settings.intermediate_dim,
                patch_size=settings.patch_size,
            )
            dimensions["patch_size"] = dimensions["patch_size"] or auto_patch_size(data.extras["image_size"])
            backbone = VisionTransformer(
                image_size=data.extras["image_size"], num_channels=data.extras["channels"], pooling=settings.pooling,
                dropout_rate=settings.dropout_rate, stochastic_depth_rate=settings.stochastic_depth_rate,
                name="backbone", **dimensions,
            )
        backbone.trainable = not settings.freeze_backbone
        data.extras["built_backbone"] = backbone
        folder = data.extras["folder"]
        return ViTClassifier(backbone, num_classes=len(folder.class_names), dropout_rate=settings.head_dropout_rate,
                             class_names=folder.class_names, name="vit_classifier")

    def loss_and_metrics(self, settings, data):
        import keras

        k = min(5, len(data.extras["folder"].class_names))
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True), [
            keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
            keras.metrics.SparseTopKCategoricalAccuracy(k=k, name="top5_accuracy"),
        ]


def init_backbone(init, image_size=None):
    """The `VisionTransformer` an `--init` starts from, moved to `image_size` when given.

    A run folder or `.keras` file holding a `ViTClassifier` (or any model with a
    `VisionTransformer` layer), or a keras-hub `ViTBackbone` preset (`keras_hub:<preset>`).
    """
    from applications.skeleton.errors import FlagError
    from applications.vision.vision_transformer import VisionTransformer, size_pair

    if init.kind == "keras_hub":
        from applications.skeleton.init import load_keras_hub_backbone
        from applications.vision.keras_hub_conversion import from_keras_hub

        backbone = from_keras_hub(load_keras_hub_backbone(init, ("ViTBackbone",), "vision"), name="backbone")
    else:
        from applications import load
        from applications.skeleton.loading import load_keras_model

        model = load(init.value, tasks=(TASK_NAME,), command="vision train --init").model \
            if init.kind == "run" else load_keras_model(init.value)
        backbone = getattr(model, "backbone", None)
        if not isinstance(backbone, VisionTransformer):
            found = [layer for layer in model.layers if isinstance(layer, VisionTransformer)]
            if not found:
                raise FlagError(f"--init {init}: the model holds no VisionTransformer backbone")
            backbone = found[0]
    if image_size is not None and size_pair(_image_size(image_size)) != backbone.image_size:
        backbone = backbone.resized(_image_size(image_size))
    return backbone
