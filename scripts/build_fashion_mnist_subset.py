"""Build the Fashion-MNIST subset shipped as `data/vision/fashion_mnist_subset.npz`.

Source: the Debian package `dataset-fashion-mnist` (Zalando Research, MIT licence), files
`/usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz` in IDX format
(big-endian header: 16 bytes for images, 8 for labels, then one uint8 per pixel or label).

The subset keeps, for every class, the first TRAIN_PER_CLASS images of the official training set
and the first TEST_PER_CLASS of the official test set (file order, so the choice is deterministic
and balanced). Arrays in the npz (np.savez_compressed):
  x_train uint8 (3000, 28, 28), y_train uint8 (3000,), x_test uint8 (1000, 28, 28),
  y_test uint8 (1000,), class_names str (10,) folder-safe names ("t_shirt_top", "trouser", ...).

With `--full`, it instead writes all 70,000 images as PNG class folders for benchmarks:
`<full-dir>/train/<class_name>/<index>.png` and `<full-dir>/test/...` (index = position in the
official file).

Usage:
  python scripts/build_fashion_mnist_subset.py              # writes the shipped npz
  python scripts/build_fashion_mnist_subset.py --full runs/fashion_mnist
"""

import argparse
import gzip
import logging
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from applications.datasets import save_image_folders  # noqa: E402

SOURCE_DIR = Path("/usr/share/datasets/fashion-mnist")
CLASS_NAMES = (
    "t_shirt_top", "trouser", "pullover", "dress", "coat",
    "sandal", "shirt", "sneaker", "bag", "ankle_boot",
)
TRAIN_PER_CLASS = 300
TEST_PER_CLASS = 100
IMAGE_HEADER_BYTES = 16  # magic, count, rows, columns: four big-endian int32
LABEL_HEADER_BYTES = 8  # magic, count


def read_idx(source_dir, split):
    """Returns (images uint8 (N, 28, 28), labels uint8 (N,)) of split "train" or "t10k"."""
    with gzip.open(source_dir / f"{split}-images-idx3-ubyte.gz") as f:
        raw = f.read()
    count, rows, columns = np.frombuffer(raw[4:IMAGE_HEADER_BYTES], dtype=">i4")
    images = np.frombuffer(raw[IMAGE_HEADER_BYTES:], dtype=np.uint8).reshape(count, rows, columns)
    with gzip.open(source_dir / f"{split}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read()[LABEL_HEADER_BYTES:], dtype=np.uint8)
    if len(labels) != count:
        raise ValueError(f"{split}: {count} images but {len(labels)} labels")
    return images, labels


def first_per_class(images, labels, per_class):
    """Returns the first `per_class` images of each class, in file order."""
    keep = np.sort(
        np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(len(CLASS_NAMES))])
    )
    return images[keep], labels[keep]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source-dir", type=Path, default=SOURCE_DIR)
    parser.add_argument("--out", type=Path, default=REPO / "data/vision/fashion_mnist_subset.npz")
    parser.add_argument(
        "--full", type=Path, metavar="DIR", help="write all 70k images as PNG folders"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    start = time.time()

    splits = {"train": read_idx(args.source_dir, "train")}
    splits["test"] = read_idx(args.source_dir, "t10k")  # the official test files are "t10k"
    if args.full:
        for split, (images, labels) in splits.items():
            save_image_folders(images, labels, CLASS_NAMES, args.full / split)
            logging.info("wrote %d %s images under %s", len(images), split, args.full / split)
    else:
        x_train, y_train = first_per_class(*splits["train"], TRAIN_PER_CLASS)
        x_test, y_test = first_per_class(*splits["test"], TEST_PER_CLASS)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            args.out, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
            class_names=np.array(CLASS_NAMES),
        )
        logging.info(
            "wrote %s: %d train + %d test images, %d bytes",
            args.out, len(x_train), len(x_test), args.out.stat().st_size,
        )
    logging.info("%.1f s", time.time() - start)


if __name__ == "__main__":
    main()
