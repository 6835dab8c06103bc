"""`keras-attn vision export`: image bytes in, top labels out, served without the library, the
same answers as `predict`."""

import numpy as np
from serving import serve

from applications.cli import main

SCRIPT = """
model = tf.saved_model.load(sys.argv[1])
images = tf.constant([open(path, "rb").read() for path in sys.argv[2:]])
out = model.signatures["serving_default"](images=images)
result = {"labels": [[l.decode() for l in row] for row in out["labels"].numpy()],
          "probabilities": out["probabilities"].numpy().tolist()}
"""


def test_saved_model_serves_like_predict(trained, predictor, digits_dir, tmp_path):
    _, out = trained
    images = [str(sorted((digits_dir / f"digit_{i}").iterdir())[0]) for i in (0, 5, 9)]
    target = tmp_path / "served"
    assert main(["vision", "export", "--model", str(out), "--out", str(target)]) == 0
    served = serve(target, SCRIPT, *images)
    assert served["imported"] == []
    expected = predictor.predict(images, top_k=5)
    for row, labels, probabilities in zip(expected, served["labels"], served["probabilities"]):
        assert labels == [item["label"] for item in row["top_k"]]
        np.testing.assert_allclose(probabilities, [item["probability"] for item in row["top_k"]], atol=1e-5)


def test_export_defaults_to_the_run_folder(predictor):
    path = predictor.export()
    assert path == str(predictor.folder.path) + "/saved_model"
