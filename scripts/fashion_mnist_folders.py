"""Write a split of a Fashion-MNIST npz (by default the shipped subset) as PNG class folders.

The writer itself lives in `applications/datasets.py` so applications can call it; this script
is its command line.

Usage:
  python scripts/fashion_mnist_folders.py OUT_DIR [--split test] [--limit-per-class 20] [--npz F]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from applications.datasets import fashion_mnist_folders  # noqa: E402


def write_image_folders(npz_path, out_dir, split="train", limit_per_class=None):
    """Writes `out_dir/<class_name>/<index>.png` for one split of the npz; returns `out_dir`."""
    return fashion_mnist_folders(out_dir, split, limit_per_class, npz_path=npz_path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--split", choices=("train", "test"), default="train")
    parser.add_argument("--limit-per-class", type=int)
    parser.add_argument("--npz", type=Path, help="default: data/vision/fashion_mnist_subset.npz")
    args = parser.parse_args()
    write_image_folders(args.npz, args.out_dir, args.split, args.limit_per_class)


if __name__ == "__main__":
    main()
