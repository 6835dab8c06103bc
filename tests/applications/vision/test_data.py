import numpy as np
import pytest
from PIL import Image

from applications.vision.data import (
    CorruptImageError,
    ImageFolderError,
    evaluation_pipeline,
    load_image_folder,
    load_images,
    scan_image_folder,
    training_pipeline,
)


def _write(path, mode="L", size=(8, 8), fmt=None, seed=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0]) if mode == "L" else (size[1], size[0], 3)
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(path, format=fmt)
    return path


@pytest.fixture
def mixed_folder(tmp_path):
    """Two classes, every supported format, greyscale and colour, two sizes."""
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


@pytest.mark.parametrize("channels", [1, 3])
def test_load_resizes_and_splits(mixed_folder, channels):
    folder = scan_image_folder(mixed_folder)
    train, validation = load_image_folder(folder, (4, 6), channels, validation_split=0.5, seed=1)
    train_items, validation_items = list(train), list(validation)
    assert len(train_items) + len(validation_items) == 6 and len(validation_items) == 3
    assert all(tuple(image.shape) == (4, 6, channels) for image, _ in train_items + validation_items)
    batch = next(iter(evaluation_pipeline(train, batch_size=8)))
    assert float(np.min(batch[0])) >= -1.0 and float(np.max(batch[0])) <= 1.0


def test_training_pipeline_has_static_batches(mixed_folder):
    folder = scan_image_folder(mixed_folder)
    train, _ = load_image_folder(folder, (8, 8), 1)
    dataset = training_pipeline(train, batch_size=4, augment=True, seed=0)
    assert dataset.element_spec[0].shape.as_list() == [4, 8, 8, 1]  # drop_remainder: static
    batches = list(dataset)
    assert len(batches) == 1 and np.isfinite(batches[0][0]).all()


def test_corrupt_image_is_named(mixed_folder):
    bad = mixed_folder / "dog" / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    truncated = mixed_folder / "cat" / "truncated.jpg"
    truncated.write_bytes((mixed_folder / "cat" / "b.JPG").read_bytes()[:40])
    with pytest.raises(CorruptImageError) as error:
        scan_image_folder(mixed_folder)
    assert sorted(error.value.paths) == sorted([str(truncated), str(bad)])
    assert "broken.png" in str(error.value) and "truncated.jpg" in str(error.value)
    assert "--skip-corrupt" in str(error.value)


def test_skip_corrupt_leaves_them_out(mixed_folder, caplog):
    bad = mixed_folder / "dog" / "broken.png"
    bad.write_bytes(b"garbage")
    folder = scan_image_folder(mixed_folder, skip_corrupt=True)
    assert folder.skipped == [str(bad)] and str(bad) not in folder.paths and len(folder.paths) == 6
    assert "broken.png" in caplog.text
    train, _ = load_image_folder(folder, (8, 8), 1)
    assert len(list(train)) == 6  # Keras' loader drops the corrupt file too


def test_predict_loader_names_corrupt_files(mixed_folder):
    bad = mixed_folder / "broken.jpg"
    bad.write_bytes(b"garbage")
    images = load_images([mixed_folder / "cat" / "a.png", mixed_folder / "dog" / "f.png"], (4, 4), 1)
    assert images.shape == (2, 4, 4, 1)
    with pytest.raises(CorruptImageError, match="broken.jpg"):
        load_images([mixed_folder / "cat" / "a.png", bad], (4, 4), 3)


def test_empty_class_folder(mixed_folder):
    (mixed_folder / "empty_class").mkdir()
    with pytest.raises(ImageFolderError, match="empty_class"):
        scan_image_folder(mixed_folder)


def test_no_images_at_all(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "readme.txt").write_text("x")
    with pytest.raises(ImageFolderError, match="No images"):
        scan_image_folder(tmp_path)


def test_no_class_folders(tmp_path):
    _write(tmp_path / "loose.png")
    with pytest.raises(ImageFolderError, match="no class subfolders"):
        scan_image_folder(tmp_path)


def test_missing_folder(tmp_path):
    with pytest.raises(ImageFolderError, match="No such folder"):
        scan_image_folder(tmp_path / "nope")
