"""Folders of labelled images -> `tf.data` pipelines for a Vision Transformer.

The layout is Keras' (`keras.utils.image_dataset_from_directory`): one
subfolder per class, images in jpg/png/bmp/gif, greyscale or colour.

    scan_image_folder(dir)        check the folder: classes, images, corrupt files
    load_image_folder(folder,...) Keras' loader: decode, resize, validation split
    training_pipeline(ds, ...)    shuffle, augment, normalize, batch (drop_remainder)
    evaluation_pipeline(ds, ...)  normalize, batch
    load_images(paths, ...)       single files for predict/explain, same decoding

Pixels are normalised to [-1, 1] (`normalize`), as keras-hub's ViT presets
expect, so an imported keras-hub backbone fine-tunes on the same inputs.
Augmentation is Keras preprocessing layers mapped over the dataset.

Example:

>>> import tempfile, pathlib, numpy as np
>>> from applications import datasets
>>> root = datasets.fashion_mnist_folders(tempfile.mkdtemp(), "test", limit_per_class=2)
>>> folder = scan_image_folder(root)
>>> len(folder.paths), folder.class_names[:2], folder.num_channels, folder.image_size
(20, ['ankle_boot', 'bag'], 1, (28, 28))
>>> train, validation = load_image_folder(folder, image_size=(16, 16), validation_split=0.5)
>>> batch = next(iter(evaluation_pipeline(train, batch_size=4)))
>>> batch[0].shape, float(np.max(batch[0])) <= 1.0
(TensorShape([4, 16, 16, 1]), True)
"""

import collections
import contextlib
import dataclasses
import io
import logging
import os

import keras
import numpy as np
import tensorflow as tf

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")  # what Keras' loader reads
CHANNEL_COUNTS = (1, 3, 4)  # greyscale, RGB, RGBA
SHUFFLE_BUFFER = 4096


class ImageFolderError(ValueError):
    """A folder that cannot be used: missing, no classes, an empty class, no images."""


class CorruptImageError(ImageFolderError):
    """Images that cannot be read or decoded; `paths` lists them."""

    def __init__(self, paths):
        self.paths = list(paths)
        shown = "\n  ".join(self.paths[:20])
        more = f"\n  ... and {len(self.paths) - 20} more" if len(self.paths) > 20 else ""
        super().__init__(
            f"{len(self.paths)} unreadable or corrupt image(s):\n  {shown}{more}\n"
            "Remove them, or pass --skip-corrupt (skip_corrupt=True) to train without them."
        )


@dataclasses.dataclass
class ImageFolder:
    """A checked image folder (what `scan_image_folder` returns).

    Attributes:
        directory: the folder.
        class_names: sorted subfolder names; label `i` is `class_names[i]`.
        paths, labels: the readable images and their labels.
        num_channels: 1 when every image is greyscale, else 3 (4 if any has alpha).
        image_size: the most common `(height, width)`.
        skipped: corrupt files left out (with `skip_corrupt=True`).
    """

    directory: str
    class_names: list
    paths: list
    labels: list
    num_channels: int
    image_size: tuple
    skipped: list


def _list_images(directory):
    if not os.path.isdir(directory):
        raise ImageFolderError(f"No such folder: {directory}")
    class_names = sorted(
        entry.name for entry in os.scandir(directory) if entry.is_dir() and not entry.name.startswith(".")
    )
    if not class_names:
        raise ImageFolderError(
            f"{directory} has no class subfolders; put each class's images in {directory}/<class_name>/."
        )
    paths, labels, empty = [], [], []
    for label, name in enumerate(class_names):
        found = sorted(
            os.path.join(root, file)
            for root, _, files in os.walk(os.path.join(directory, name), followlinks=True)
            for file in files
            if file.lower().endswith(IMAGE_EXTENSIONS)
        )
        if not found:
            empty.append(name)
        paths += found
        labels += [label] * len(found)
    if not paths:
        raise ImageFolderError(
            f"No images ({', '.join(IMAGE_EXTENSIONS)}) in any class folder of {directory}."
        )
    if empty:
        raise ImageFolderError(
            f"Class folder(s) with no images ({', '.join(IMAGE_EXTENSIONS)}) in {directory}: "
            f"{', '.join(empty)}. Add images or remove the folder(s)."
        )
    return class_names, paths, labels


def _decoded_shapes(paths):
    """`{index: (height, width, channels)}` of every file that decodes (in parallel)."""

    def shape_of(index):
        image = tf.io.decode_image(tf.io.read_file(tf.gather(paths, index)), expand_animations=False)
        return index, tf.shape(image)

    dataset = (
        tf.data.Dataset.range(len(paths))
        .map(shape_of, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .ignore_errors()
    )
    return {int(index): tuple(int(v) for v in shape) for index, shape in dataset.as_numpy_iterator()}


def scan_image_folder(directory, skip_corrupt=False):
    """Check a folder of class subfolders and decode every image once.

    Raises:
        ImageFolderError: the folder is missing, has no class subfolders or
            no images, or a class folder has no images.
        CorruptImageError: some images do not decode (their paths are in the
            message and in `error.paths`), unless `skip_corrupt`, which logs
            them and leaves them out.
    """
    directory = os.fspath(directory)
    class_names, paths, labels = _list_images(directory)
    shapes = _decoded_shapes(paths)
    corrupt = [path for index, path in enumerate(paths) if index not in shapes]
    if corrupt and not skip_corrupt:
        raise CorruptImageError(corrupt)
    if corrupt:
        logger.warning("Skipping %d corrupt image(s): %s", len(corrupt), ", ".join(corrupt))
        keep = [index for index in range(len(paths)) if index in shapes]
        paths, labels = [paths[i] for i in keep], [labels[i] for i in keep]
        left = set(labels)
        lost = [name for label, name in enumerate(class_names) if label not in left]
        if lost:
            raise ImageFolderError(f"Every image of class(es) {lost} in {directory} is corrupt.")
    channels = {shape[2] for shape in shapes.values()}
    num_channels = 1 if channels == {1} else (4 if 4 in channels else 3)
    image_size = collections.Counter(shape[:2] for shape in shapes.values()).most_common(1)[0][0]
    logger.info(
        "%s: %d images in %d classes, %d channel(s), mostly %dx%d.",
        directory, len(paths), len(class_names), num_channels, *image_size,
    )
    return ImageFolder(directory, class_names, paths, labels, num_channels, image_size, corrupt)


def load_image_folder(folder, image_size, num_channels=None, validation_split=0.0, seed=0, shuffle=True):
    """Load a scanned folder with `keras.utils.image_dataset_from_directory`.

    Args:
        folder: an `ImageFolder` from `scan_image_folder`.
        image_size: `(height, width)` to resize to (bilinear).
        num_channels: 1, 3 or 4; defaults to `folder.num_channels`.
        validation_split: fraction held out for validation (0: none).
        seed: seed of the file shuffle that makes the split.
        shuffle: shuffle the files (Keras also reshuffles each pass); needed
            for a split, which otherwise takes the last classes.

    Returns:
        `(train, validation)` unbatched datasets of `(float32 image in
        [0, 255], int32 label)`; `validation` is `None` without a split.
    """
    num_channels = num_channels or folder.num_channels
    if num_channels not in CHANNEL_COUNTS:
        raise ValueError(f"Image folders hold 1, 3 or 4 channels. Received: num_channels={num_channels}")
    split = validation_split if validation_split else None
    printed = io.StringIO()  # Keras prints "Using N files for training." on stdout
    with contextlib.redirect_stdout(printed):
        datasets = keras.utils.image_dataset_from_directory(
            folder.directory,
            labels="inferred",
            label_mode="int",
            class_names=folder.class_names,
            # TensorFlow decodes BMP and GIF to 3 or 4 channels only: greyscale
            # is loaded as RGB and converted below (the same luma weights as PIL).
            color_mode="rgba" if num_channels == 4 else "rgb",
            batch_size=None,
            image_size=tuple(image_size),
            shuffle=shuffle,
            seed=seed,
            validation_split=split,
            subset="both" if split else None,
            follow_links=True,
            verbose=False,
        )
    for line in printed.getvalue().splitlines():
        logger.info("%s", line)
    datasets = list(datasets) if split else [datasets, None]
    if num_channels == 1:
        datasets = [d.map(_to_greyscale, num_parallel_calls=tf.data.AUTOTUNE) if d is not None else None for d in datasets]
    if folder.skipped:
        # The scan named the corrupt files; here their decode errors just drop them.
        datasets = [d.ignore_errors() if d is not None else None for d in datasets]
    return tuple(datasets)


def _to_greyscale(image, label):
    return tf.image.rgb_to_grayscale(image), label


def normalize(images):
    """Pixels in [0, 255] -> [-1, 1] (keras-hub's ViT preprocessing)."""
    return keras.layers.Rescaling(1.0 / 127.5, offset=-1.0)(images)


def augmentation(seed=0, flip=True):
    """Keras preprocessing layers for training: flip, shift, zoom (crop/resize)."""
    layers = [keras.layers.RandomFlip("horizontal", seed=seed)] if flip else []
    layers += [
        keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed + 1),
        keras.layers.RandomZoom((-0.1, 0.1), fill_mode="constant", seed=seed + 2),
    ]
    return keras.Sequential(layers, name="augmentation")


def training_pipeline(dataset, batch_size, augment=True, flip=True, seed=0, cache=True, shuffle=True):
    """Shuffled, augmented, normalised batches of exactly `batch_size` (static
    shapes for XLA: the last partial batch is dropped)."""
    if cache:
        dataset = dataset.cache()  # decoded and resized once
    if shuffle:
        dataset = dataset.shuffle(SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=True)
    if augment:
        layers = augmentation(seed, flip=flip)
        dataset = dataset.map(
            lambda images, labels: (layers(images, training=True), labels),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    dataset = dataset.map(lambda images, labels: (normalize(images), labels), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def evaluation_pipeline(dataset, batch_size, cache=False):
    """Normalised batches, every example kept (the last batch may be smaller)."""
    if cache:
        dataset = dataset.cache()
    dataset = dataset.batch(batch_size)
    dataset = dataset.map(lambda images, labels: (normalize(images), labels), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def load_image(path, image_size, num_channels):
    """One image file -> `(height, width, channels)` float32 in [0, 255],
    decoded and resized as the folder loader does. Raises `CorruptImageError`."""
    path = os.fspath(path)
    if num_channels not in CHANNEL_COUNTS:
        raise ValueError(f"Image files hold 1, 3 or 4 channels. Received: num_channels={num_channels}")
    try:
        image = keras.utils.load_img(path, color_mode="rgba" if num_channels == 4 else "rgb")
    except (OSError, ValueError, SyntaxError) as error:  # PIL's errors for unreadable files
        raise CorruptImageError([path]) from error
    array = keras.utils.img_to_array(image, dtype="float32")  # (H, W, C)
    array = tf.image.resize(array, tuple(image_size), method="bilinear")
    if num_channels == 1:
        array = tf.image.rgb_to_grayscale(array)
    return array.numpy()


def load_images(paths, image_size, num_channels):
    """Image files -> `(n, height, width, channels)` normalised to [-1, 1]; every
    unreadable file is named in one `CorruptImageError`."""
    images, corrupt = [], []
    for path in paths:
        try:
            images.append(load_image(path, image_size, num_channels))
        except CorruptImageError:
            corrupt.append(os.fspath(path))
    if corrupt:
        raise CorruptImageError(corrupt)
    return np.asarray(normalize(np.stack(images)))
