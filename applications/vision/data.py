"""Folders of labelled images -> `tf.data` pipelines for a Vision Transformer.

Layout: one subfolder per class (`images/<class>/*.png`), read by
`applications.skeleton.files.list_class_folders` (links that stay inside a class folder are
followed, no cycles, no file counted twice, at least two classes).

Every image is decoded with Pillow, whatever its mode (1, L, LA, P, PA, RGB, RGBA, CMYK,
YCbCr, I;16, I, F; an animated GIF gives its first frame), into 8-bit pixels
(`decode_image_file`): 16-bit images are scaled by 255/65535, 32-bit integer images too,
float images in [0, 1] by 255 (others clipped to [0, 255]). The folder's channel count is
decided from the decoded pixels (`scan_image_folder`): 1 when every image is grey
(R = G = B), 4 when some image has a transparent pixel, 3 otherwise; every image is then
converted to it (`to_channels`: grey from colour with TensorFlow's luma weights, alpha
dropped or set opaque). A file that cannot be decoded is named (`CorruptImageError`).

    scan_image_folder(dir)             classes, images, their channels and most common size
    image_dataset(paths, labels, ...)  decode (Pillow), convert, resize: (float32 [0, 255], label)
    training_pipeline(ds, ...)         cache, shuffle, batch (drop_remainder), augment, normalise
    evaluation_pipeline(ds, ...)       batch, normalise
    load_images(paths, ...)            files for predict/explain, decoded the same way

Pixels are normalised to [-1, 1] (`normalize`), as keras-hub's ViT presets expect.

Example:

>>> import tempfile
>>> from applications import datasets
>>> root = datasets.fashion_mnist_folders(tempfile.mkdtemp(), "test", limit_per_class=2)
>>> folder = scan_image_folder(root)
>>> len(folder.paths), folder.class_names[:2], folder.num_channels, folder.image_size
(20, ['ankle_boot', 'bag'], 1, (28, 28))
>>> batch = next(iter(evaluation_pipeline(image_dataset(folder.paths, folder.labels, (16, 16), 1), 4)))
>>> batch[0].shape, float(batch[0].numpy().max()) <= 1.0
(TensorShape([4, 16, 16, 1]), True)
"""

import collections
import concurrent.futures
import dataclasses
import logging
import os
import random

import numpy as np

from applications.skeleton.files import DataFolderError, list_class_folders

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")
CHANNEL_COUNTS = (1, 3, 4)  # grey, RGB, RGBA
SHUFFLE_BUFFER = 4096
LUMA = np.array([0.2989, 0.5870, 0.1140], np.float32)  # tf.image.rgb_to_grayscale's weights


class ImageFolderError(DataFolderError):
    """A folder of images that cannot be used: missing, no classes, an empty class, no images."""


class CorruptImageError(ImageFolderError):
    """Images that cannot be read or decoded; `paths` lists them (and `reasons`)."""

    def __init__(self, paths, reasons=None, hint="Pass --skip-bad-files to leave them out."):
        self.paths = list(paths)
        self.reasons = list(reasons or [])
        shown = "; ".join(
            f"{path} ({reason})" if reason else path
            for path, reason in zip(self.paths[:10], self.reasons[:10] or [None] * len(self.paths))
        )
        more = f"; ... and {len(self.paths) - 10} more" if len(self.paths) > 10 else ""
        super().__init__(f"{len(self.paths)} unreadable image file(s): {shown}{more}. " + (hint or ""))


@dataclasses.dataclass
class ImageFolder:
    """A checked image folder (what `scan_image_folder` returns).

    Attributes:
        directory: the folder.
        class_names: sorted subfolder names; label `i` is `class_names[i]`.
        paths, labels: the readable images and their labels.
        num_channels: 1, 3 or 4, decided from the decoded pixels (see the module doc).
        image_size: the most common `(height, width)`.
        skipped: unreadable files left out (with `skip_bad_files=True`).
    """

    directory: str
    class_names: list
    paths: list
    labels: list
    num_channels: int
    image_size: tuple
    skipped: list


# -- decoding -------------------------------------------------------------------------------


def _to_uint8(array, mode):
    """16-bit, 32-bit and float pixels -> 8-bit (see the module doc)."""
    if array.dtype == np.uint8:
        return array
    array = array.astype(np.float64)
    if mode.startswith("I;16") or (mode == "I" and array.max(initial=0) > 255):
        array = array * (255.0 / 65535.0)
    elif mode == "F" and array.max(initial=0) <= 1.0:
        array = array * 255.0
    return np.clip(np.round(array), 0, 255).astype(np.uint8)


def decode_image_file(path):
    """The pixels of an image file as `uint8 (height, width, channels)`, channels 1, 3 or 4.

    Grey modes give 1 channel, colour modes 3, modes with transparency 4.

    Raises:
        CorruptImageError: the file is missing, unreadable, truncated or not an image.
    """
    from PIL import Image, UnidentifiedImageError

    path = os.fspath(path)
    try:
        with Image.open(path) as image:
            image.seek(0)  # animated GIF/WebP: the first frame
            image.load()
            mode = image.mode
            if mode in ("1", "L"):
                array = np.asarray(image.convert("L"))[..., None]
            elif mode in ("I", "F") or mode.startswith("I;16"):
                array = _to_uint8(np.asarray(image), mode)[..., None]
            elif mode in ("LA", "La", "PA", "RGBA", "RGBa") or (mode == "P" and "transparency" in image.info):
                array = np.asarray(image.convert("RGBA"))
            else:  # RGB, P, CMYK, YCbCr, LAB, HSV, RGBX, ...
                array = np.asarray(image.convert("RGB"))
    except FileNotFoundError:
        raise CorruptImageError([path], ["no such file"], hint="") from None
    except (OSError, ValueError, SyntaxError, UnidentifiedImageError, Image.DecompressionBombError) as error:
        reason = "not an image Pillow can read" if isinstance(error, UnidentifiedImageError) else str(error)
        raise CorruptImageError([path], [reason[:120]]) from None
    if array.ndim != 3 or array.shape[0] == 0 or array.shape[1] == 0:
        raise CorruptImageError([path], [f"empty image {array.shape}"])
    return np.ascontiguousarray(array)


def channels_needed(pixels):
    """1 when the pixels are grey (R = G = B), 4 when some pixel is transparent, else 3."""
    channels = pixels.shape[-1]
    if channels == 1:
        return 1
    colour = pixels[..., :3]
    grey = bool(np.all(colour[..., 0] == colour[..., 1]) and np.all(colour[..., 1] == colour[..., 2]))
    transparent = channels == 4 and bool(np.any(pixels[..., 3] < 255))
    if transparent:
        return 4
    return 1 if grey else 3


def to_channels(pixels, channels):
    """Convert `uint8 (H, W, C)` pixels to `channels` (1, 3 or 4) as float32 in [0, 255]."""
    if channels not in CHANNEL_COUNTS:
        raise ValueError(f"Images hold 1, 3 or 4 channels. Received: channels={channels}")
    pixels = pixels.astype(np.float32)
    have = pixels.shape[-1]
    if have == channels:
        return pixels
    if channels == 1:
        return (pixels[..., :3] @ LUMA)[..., None]  # alpha dropped
    colour = np.repeat(pixels, 3, axis=-1) if have == 1 else pixels[..., :3]
    if channels == 3:
        return colour
    return np.concatenate([colour, np.full(colour.shape[:-1] + (1,), 255.0, np.float32)], axis=-1)


def read_image(path, image_size, channels):
    """One file -> `float32 (height, width, channels)` in [0, 255]: decoded, converted, and
    resized bilinearly as training does."""
    import tensorflow as tf

    pixels = to_channels(decode_image_file(path), channels)
    return tf.image.resize(pixels, tuple(image_size), method="bilinear").numpy()


# -- folders -------------------------------------------------------------------------------


def _inspect(path):
    pixels = decode_image_file(path)
    return pixels.shape[:2], channels_needed(pixels)


def inspect_images(paths, skip_bad_files=False, threads=8):
    """Decode every file once: `(shapes, channels, bad)` for the readable ones, in order.

    Raises `CorruptImageError` naming every unreadable file, unless `skip_bad_files`.
    """
    results, bad, reasons = {}, [], []
    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:  # Pillow releases the GIL
        futures = {pool.submit(_inspect, path): index for index, path in enumerate(paths)}
        for future in concurrent.futures.as_completed(futures):
            index = futures[future]
            try:
                results[index] = future.result()
            except CorruptImageError as error:
                bad.append(index)
                reasons.append(error.reasons[0] if error.reasons else "")
    order = sorted(range(len(bad)), key=lambda i: bad[i])
    bad_paths, bad_reasons = [paths[bad[i]] for i in order], [reasons[i] for i in order]
    if bad_paths and not skip_bad_files:
        raise CorruptImageError(bad_paths, bad_reasons)
    return results, bad_paths, bad_reasons


def scan_image_folder(directory, skip_bad_files=False):
    """Check a folder of class subfolders and decode every image once (see the module doc).

    Raises:
        ImageFolderError: the folder is missing, has no class subfolders, one class only, an
            empty class, or every image of a class is unreadable.
        CorruptImageError: some images do not decode (named), unless `skip_bad_files`, which
            leaves them out with a warning naming each.
    """
    directory = os.fspath(directory)
    try:
        class_names, paths, labels = list_class_folders(directory, IMAGE_EXTENSIONS, "images")
    except DataFolderError as error:
        raise ImageFolderError(str(error)) from None
    decoded, skipped, reasons = inspect_images(paths, skip_bad_files)
    for path, reason in zip(skipped, reasons):
        logger.warning("Skipping the unreadable image %s (%s).", path, reason)
    keep = sorted(decoded)
    paths, labels = [paths[i] for i in keep], [labels[i] for i in keep]
    lost = [name for label, name in enumerate(class_names) if label not in set(labels)]
    if lost:
        raise ImageFolderError(f"Every image of class(es) {lost} in {directory} is unreadable.")
    needed = {decoded[i][1] for i in keep}
    num_channels = 4 if 4 in needed else (1 if needed == {1} else 3)
    image_size = collections.Counter(decoded[i][0] for i in keep).most_common(1)[0][0]
    logger.info("%s: %d images in %d classes, %d channel(s), mostly %dx%d.",
                directory, len(paths), len(class_names), num_channels, *image_size)
    return ImageFolder(directory, class_names, paths, labels, num_channels, tuple(image_size), skipped)


def split_indices(count, fraction, seed=0):
    """`(train, validation)` index lists: a seeded shuffle, `round(count * fraction)` held out
    (at least one when `fraction > 0`)."""
    order = list(range(count))
    random.Random(seed).shuffle(order)
    held = max(1, round(count * fraction)) if fraction else 0
    if held >= count:
        raise ImageFolderError(f"{count} images are too few to hold out a validation fraction of {fraction}.")
    return sorted(order[held:]), sorted(order[:held])


def image_dataset(paths, labels, image_size, channels):
    """An unbatched `tf.data.Dataset` of `(float32 (H, W, channels) in [0, 255], int32 label)`:
    each file decoded with Pillow (`decode_image_file`), converted and resized bilinearly."""
    import tensorflow as tf

    height, width = image_size

    def load(path):
        return to_channels(decode_image_file(path.decode("utf-8")), channels)

    def decode(path, label):
        pixels = tf.numpy_function(load, [path], tf.float32, stateful=False)
        pixels = tf.ensure_shape(pixels, [None, None, channels])
        return tf.image.resize(pixels, (height, width), method="bilinear"), label

    dataset = tf.data.Dataset.from_tensor_slices((list(map(os.fspath, paths)), np.asarray(labels, np.int32)))
    return dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def normalize(images):
    """Pixels in [0, 255] -> [-1, 1] (keras-hub's ViT preprocessing)."""
    return images / 127.5 - 1.0


def augmentation(seed=0, flip=False):
    """Keras preprocessing layers for training: shift and zoom, and horizontal flips only with
    `flip` (flips change the meaning of digits, text and many medical or satellite images)."""
    import keras

    layers = [keras.layers.RandomFlip("horizontal", seed=seed)] if flip else []
    layers += [
        keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed + 1),
        keras.layers.RandomZoom((-0.1, 0.1), fill_mode="constant", seed=seed + 2),
    ]
    return keras.Sequential(layers, name="augmentation")


def training_pipeline(dataset, batch_size, augment=False, flip=False, seed=0, shuffle=True, repeat=True):
    """Cached, shuffled, optionally augmented, normalised batches of exactly `batch_size`
    (static shapes for XLA: the last partial batch is dropped); endless with `repeat`."""
    import tensorflow as tf

    dataset = dataset.cache()  # decoded and resized once
    if shuffle:
        dataset = dataset.shuffle(SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    dataset = dataset.batch(batch_size, drop_remainder=True)
    if augment or flip:
        layers = augmentation(seed, flip=flip)
        dataset = dataset.map(lambda images, labels: (layers(images, training=True), labels),
                              num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.map(lambda images, labels: (normalize(images), labels), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def evaluation_pipeline(dataset, batch_size, cache=False):
    """Normalised batches, every example kept (the last batch may be smaller)."""
    import tensorflow as tf

    if cache:
        dataset = dataset.cache()
    dataset = dataset.batch(batch_size)
    dataset = dataset.map(lambda images, labels: (normalize(images), labels), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def load_images(paths, image_size, channels, skip_bad_files=False):
    """Image files -> `(normalised images (n, H, W, C), kept paths)`; every unreadable file is
    named in one `CorruptImageError` (or left out, with a warning, with `skip_bad_files`)."""
    missing = [os.fspath(path) for path in paths if not os.path.isfile(path)]
    if missing and not skip_bad_files:
        raise ImageFolderError(f"No such image file: {', '.join(missing)}")
    images, kept, bad, reasons = [], [], [], []
    for path in paths:
        try:
            images.append(read_image(path, image_size, channels))
            kept.append(os.fspath(path))
        except CorruptImageError as error:
            bad.append(os.fspath(path))
            reasons.append(error.reasons[0] if error.reasons else "")
    if bad and not skip_bad_files:
        raise CorruptImageError(bad, reasons, hint="Pass --skip-bad-files to predict the others.")
    for path, reason in zip(bad, reasons):
        logger.warning("Skipping the unreadable image %s (%s).", path, reason)
    if not images:
        raise CorruptImageError(bad, reasons, hint="")
    return normalize(np.stack(images)).astype(np.float32), kept
