"""The classifier's SavedModel serves in a fresh process that never imports keras_attn or applications."""

import json
import subprocess
import sys
import textwrap

from applications import load

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import tensorflow as tf
    import tensorflow_text  # registers the WordPiece ops
    classifier = tf.saved_model.load(sys.argv[1])
    out = classifier.signatures["serving_default"](texts=tf.constant(json.loads(sys.argv[2])))
    imported = sorted({m.split(".")[0] for m in sys.modules} & {"keras_attn", "applications", "keras_hub"})
    print(json.dumps({"labels": [t.decode() for t in out["label"].numpy()],
                      "probabilities": out["probability"].numpy().tolist(), "imported": imported}))
    """
)


def test_saved_model_in_a_fresh_process(finetuned, tmp_path):
    predictor = load(finetuned[0])
    folder = predictor.export(str(tmp_path / "saved_model"))
    texts = ["the light alpha of day", "beta over water", "gamma"]
    result = subprocess.run([sys.executable, "-c", SCRIPT, folder, json.dumps(texts)], capture_output=True, text=True,
                            timeout=180, cwd="/")  # cwd="/": the repository is not importable
    assert result.returncode == 0, result.stderr[-3000:]
    served = json.loads(result.stdout.strip().splitlines()[-1])
    assert served["imported"] == []
    expected = predictor.predict(texts)
    assert served["labels"] == [item["label"] for item in expected]
    assert max(abs(a - item["probability"]) for a, item in zip(served["probabilities"], expected)) < 1e-5
