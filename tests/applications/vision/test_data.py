"""Image folders: every Pillow mode read correctly, channels decided from the pixels, links
never followed out of a class folder or into a cycle, unreadable files named."""

import os

import numpy as np
import pytest
from PIL import Image

from applications.vision.data import (
    CorruptImageError,
    ImageFolderError,
    decode_image_file,
    evaluation_pipeline,
    image_dataset,
    load_images,
    scan_image_folder,
    split_indices,
    to_channels,
    training_pipeline,
)


def _write(path, mode="L", size=(8, 8), fmt=None, seed=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0]) if mode == "L" else (size[1], size[0], 3)
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(path, format=fmt)
    return path


def _rgb(seed=0, size=8):
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)


@pytest.fixture
def mixed_folder(tmp_path):
    """Two classes, every common format, grey and colour, two sizes."""
    _write(tmp_path / "cat" / "a.png")
    _write(tmp_path / "cat" / "b.JPG", mode="RGB", fmt="JPEG")
    _write(tmp_path / "cat" / "c.bmp", size=(12, 10))
    _write(tmp_path / "dog" / "d.gif", fmt="GIF")
    _write(tmp_path / "dog" / "sub" / "e.jpeg", mode="RGB", fmt="JPEG")
    _write(tmp_path / "dog" / "f.png", mode="RGB")
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    return tmp_path


def test_scan_mixed_formats(mixed_folder):
    folder = scan_image_folder(mixed_folder)
    assert folder.class_names == ["cat", "dog"]
    assert len(folder.paths) == 6 and folder.labels == [0, 0, 0, 1, 1, 1]
    assert folder.num_channels == 3 and folder.image_size == (8, 8) and folder.skipped == []


@pytest.mark.parametrize(
    "mode, expected_channels",
    [("1", 1), ("L", 1), ("LA", 1), ("P", 3), ("PA", 4), ("RGB", 3), ("RGBA", 4), ("CMYK", 3), ("I;16", 1),
     ("I", 1), ("F", 1), ("YCbCr", 3)],
)
def test_every_mode_decodes_to_eight_bit_pixels(tmp_path, mode, expected_channels):
    rgb = Image.fromarray(_rgb())
    options = {}
    if mode == "PA":  # a palette image with a transparent index (PNG tRNS): what Pillow opens as P + transparency
        image = rgb.quantize(8)
        options = {"transparency": int(np.asarray(image)[0, 0])}
    elif mode == "RGBA":
        image = rgb.convert("RGBA")
        image.putalpha(128)  # transparent somewhere: a real alpha channel
    elif mode in ("I;16", "I"):
        image = Image.fromarray((np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000).astype(np.uint16))
        image = image.convert(mode) if mode == "I" else image
    elif mode == "F":
        image = Image.fromarray(np.linspace(0.0, 1.0, 64, dtype=np.float32).reshape(8, 8))
    else:
        image = rgb.convert(mode)
    fmt = {"CMYK": "JPEG", "YCbCr": "JPEG", "F": "TIFF", "I": "TIFF", "PA": "PNG"}.get(mode, "PNG")
    path = tmp_path / f"image.{fmt.lower()}"
    image.save(path, format=fmt, **options)
    pixels = decode_image_file(path)
    assert pixels.dtype == np.uint8 and pixels.shape[:2] == (8, 8)
    from applications.vision.data import channels_needed

    assert channels_needed(pixels) == expected_channels, (mode, pixels.shape)
    if mode in ("I;16", "I"):  # 16-bit scaled to 8 bits: 63000 -> 245
        assert pixels.max() == round(63000 * 255 / 65535)
    if mode == "F":
        assert pixels.min() == 0 and pixels.max() == 255


def test_cmyk_jpeg_in_a_folder_trains_as_colour(mixed_folder):
    """Found by a user: a CMYK JPEG was read as 4 channels and crashed TensorFlow's decoder."""
    Image.fromarray(_rgb(3)).convert("CMYK").save(mixed_folder / "cat" / "cmyk.jpg")
    folder = scan_image_folder(mixed_folder)
    assert folder.num_channels == 3 and len(folder.paths) == 7
    images = [image for image, _ in image_dataset(folder.paths, folder.labels, (8, 8), folder.num_channels)]
    assert len(images) == 7 and all(tuple(image.shape) == (8, 8, 3) for image in images)


def test_rgba_png_with_a_gif_gives_four_channels_for_all(mixed_folder):
    """Found by a user: an RGBA PNG next to a GIF crashed (GIFs decode to 3 channels only)."""
    image = Image.fromarray(_rgb(4)).convert("RGBA")
    image.putalpha(100)
    image.save(mixed_folder / "dog" / "alpha.png")
    folder = scan_image_folder(mixed_folder)
    assert folder.num_channels == 4
    images = [image.numpy() for image, _ in image_dataset(folder.paths, folder.labels, (8, 8), 4)]
    assert all(image.shape == (8, 8, 4) for image in images)
    gif = folder.paths.index(str(mixed_folder / "dog" / "d.gif"))
    assert np.all(images[gif][..., 3] == 255)  # images without alpha are opaque


def test_an_opaque_alpha_channel_is_not_counted(tmp_path):
    for name, seed in (("a/x.png", 0), ("b/y.png", 1)):
        path = tmp_path / name
        path.parent.mkdir(parents=True)
        Image.fromarray(_rgb(seed)).convert("RGBA").save(path)  # alpha 255 everywhere
    assert scan_image_folder(tmp_path).num_channels == 3


def test_grey_pixels_in_a_colour_file_count_as_grey(tmp_path):
    for name in ("a/x.png", "b/y.png"):
        path = tmp_path / name
        path.parent.mkdir(parents=True)
        grey = np.random.default_rng(0).integers(0, 256, (8, 8), dtype=np.uint8)
        Image.fromarray(np.stack([grey] * 3, axis=-1)).save(path)  # an RGB file of grey pixels
    assert scan_image_folder(tmp_path).num_channels == 1


def test_animated_gif_gives_its_first_frame(tmp_path):
    frames = [Image.fromarray(np.full((8, 8), value, np.uint8)) for value in (10, 200, 90)]
    path = tmp_path / "movie.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    pixels = decode_image_file(path)
    assert pixels.shape == (8, 8, 3) and abs(int(pixels.mean()) - 10) <= 1


def test_to_channels_conversions():
    rgb = _rgb().astype(np.uint8)
    grey = to_channels(rgb, 1)
    np.testing.assert_allclose(grey[..., 0], rgb @ np.array([0.2989, 0.5870, 0.1140]), atol=1e-3)
    assert to_channels(rgb[..., :1], 3).shape == (8, 8, 3)
    rgba = to_channels(rgb, 4)
    assert rgba.shape == (8, 8, 4) and np.all(rgba[..., 3] == 255)


def test_symlink_cycle_is_not_followed(mixed_folder, caplog):
    """Found by a user: `ln -s .. DIR/bag/up` duplicated every image ~41 times into validation."""
    os.symlink("..", mixed_folder / "cat" / "up")
    os.symlink(mixed_folder / "dog", mixed_folder / "cat" / "other_class")
    folder = scan_image_folder(mixed_folder)
    assert len(folder.paths) == 6 and len(set(map(os.path.realpath, folder.paths))) == 6
    assert "Not following" in caplog.text


def test_a_file_reached_twice_counts_once(mixed_folder, caplog):
    os.symlink(mixed_folder / "cat" / "a.png", mixed_folder / "cat" / "again.png")
    folder = scan_image_folder(mixed_folder)
    assert len(folder.paths) == 6 and "same file" in caplog.text


def test_linked_files_and_class_folders_outside_are_read(tmp_path):
    source = tmp_path / "elsewhere"
    _write(source / "1.png")
    _write(source / "2.png", seed=1)
    single = _write(tmp_path / "single.png", seed=2)
    data = tmp_path / "data"
    (data / "a").mkdir(parents=True)
    os.symlink(single, data / "a" / "1.png")  # a file link anywhere: fine
    os.symlink(source, data / "b")  # a class folder that is a link: fine
    folder = scan_image_folder(data)
    assert folder.class_names == ["a", "b"] and len(folder.paths) == 3


def test_pipelines_have_static_batches_and_range(mixed_folder):
    folder = scan_image_folder(mixed_folder)
    dataset = image_dataset(folder.paths, folder.labels, (4, 6), 1)
    train = training_pipeline(dataset, batch_size=4, augment=True, flip=True, seed=0, repeat=False)
    assert train.element_spec[0].shape.as_list() == [4, 4, 6, 1]  # drop_remainder: static
    batch = next(iter(evaluation_pipeline(dataset, batch_size=8)))
    assert batch[0].shape == (6, 4, 6, 1)
    assert float(np.min(batch[0])) >= -1.0 and float(np.max(batch[0])) <= 1.0


def test_split_is_seeded_and_disjoint():
    train, validation = split_indices(20, 0.25, seed=3)
    assert len(validation) == 5 and not set(train) & set(validation) and split_indices(20, 0.25, seed=3)[1] == validation


def test_corrupt_images_are_named(mixed_folder):
    bad = mixed_folder / "dog" / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    truncated = mixed_folder / "cat" / "truncated.jpg"
    truncated.write_bytes((mixed_folder / "cat" / "b.JPG").read_bytes()[:40])
    with pytest.raises(CorruptImageError) as error:
        scan_image_folder(mixed_folder)
    assert sorted(error.value.paths) == sorted([str(truncated), str(bad)])
    assert "broken.png" in str(error.value) and "truncated.jpg" in str(error.value)
    assert "--skip-bad-files" in str(error.value)


def test_skip_bad_files_leaves_them_out(mixed_folder, caplog):
    bad = mixed_folder / "dog" / "broken.png"
    bad.write_bytes(b"garbage")
    folder = scan_image_folder(mixed_folder, skip_bad_files=True)
    assert folder.skipped == [str(bad)] and str(bad) not in folder.paths and len(folder.paths) == 6
    assert "broken.png" in caplog.text


def test_predict_loader_names_files(mixed_folder):
    bad = mixed_folder / "broken.jpg"
    bad.write_bytes(b"garbage")
    images, kept = load_images([mixed_folder / "cat" / "a.png", mixed_folder / "dog" / "f.png"], (4, 4), 1)
    assert images.shape == (2, 4, 4, 1) and len(kept) == 2
    with pytest.raises(CorruptImageError, match="broken.jpg"):
        load_images([mixed_folder / "cat" / "a.png", bad], (4, 4), 3)
    with pytest.raises(ImageFolderError, match="No such image file"):
        load_images([mixed_folder / "nope.png"], (4, 4), 3)
    images, kept = load_images([mixed_folder / "cat" / "a.png", bad], (4, 4), 3, skip_bad_files=True)
    assert kept == [str(mixed_folder / "cat" / "a.png")]


def test_folder_errors(tmp_path):
    with pytest.raises(ImageFolderError, match="No such folder"):
        scan_image_folder(tmp_path / "nope")
    _write(tmp_path / "loose.png")
    with pytest.raises(ImageFolderError, match="no class subfolders"):
        scan_image_folder(tmp_path)
    _write(tmp_path / "only" / "a.png")
    with pytest.raises(ImageFolderError, match="needs at least 2 classes"):
        scan_image_folder(tmp_path)
    (tmp_path / "empty_class").mkdir()
    with pytest.raises(ImageFolderError, match="empty_class"):
        scan_image_folder(tmp_path)
