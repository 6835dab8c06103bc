"""`keras-attn demo` for vision: the shortest `vision train` command on shipped Fashion-MNIST.

Writes the shipped subset (3,000 training and 1,000 test images, 28x28 grey) as class
folders, trains with the task's defaults (the `nano` ViT with 4x4 patches, 15 epochs; see
`applications/vision/task.py`), evaluates on the test folder and explains one test image.
The same run from the command line:

    keras-attn vision train --data OUT/data/train --out OUT/run
    keras-attn vision evaluate --model OUT/run --data OUT/data/test

Measured numbers (machine, seconds, accuracy) are in the README's "What make demo shows".
"""

import logging
import os

from applications import datasets, load

logger = logging.getLogger(__name__)


def run_demo(out_dir, **overrides):
    """Train, evaluate and explain on the shipped images; returns the headline numbers.

    `overrides` are `vision train` settings (e.g. `epochs=1` for a smoke run).
    """
    from applications import vision

    data = os.path.join(out_dir, "data")
    train_dir = datasets.fashion_mnist_folders(os.path.join(data, "train"), "train")
    test_dir = datasets.fashion_mnist_folders(os.path.join(data, "test"), "test")
    run_dir = os.path.join(out_dir, "run")
    trained = vision.train(data=str(train_dir), out=run_dir, verbose=2, **overrides)
    predictor = load(run_dir)
    results = predictor.evaluate(test_dir)
    example = os.path.join(test_dir, "sneaker", sorted(os.listdir(os.path.join(test_dir, "sneaker")))[0])
    explained = predictor.explain(example, os.path.join(run_dir, "rollout.png"))
    logger.info("Rollout heatmap of a test sneaker (predicted %s): %s", explained["label"], explained["heatmap"])
    return {
        "test_accuracy": results["accuracy"],
        "test_top5_accuracy": results["top5_accuracy"],
        "test_images": results["num_examples"],
        "train_seconds": trained["train_seconds"],
        "parameters": trained["num_parameters"],
    }
