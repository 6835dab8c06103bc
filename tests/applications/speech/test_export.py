"""`keras-attn speech export`: 16 kHz waveforms and lengths in, the answers out, served
without the library, the same answers as `predict`."""

import numpy as np
from serving import serve

import applications
from applications.cli import main
from applications.speech import data as speech_data

SCRIPT = """
import numpy as np
model = tf.saved_model.load(sys.argv[1])
clips = np.load(sys.argv[2])
out = model.signatures["serving_default"](audio=tf.constant(clips["audio"]),
                                          sample_lengths=tf.constant(clips["lengths"]))
result = {key: [v.decode() if isinstance(v, bytes) else float(v) for v in value.numpy()] for key, value in out.items()}
"""


def _clips(paths, tmp_path):
    clips, _ = speech_data.load_clips(paths)
    longest = max(len(clip) for clip in clips) + 800  # padded longer than the model's own length
    audio, lengths = speech_data.pad_clips(clips, longest)
    np.savez(tmp_path / "clips.npz", audio=audio, lengths=lengths)
    return tmp_path / "clips.npz"


def test_keyword_model_serves_like_predict(trained_keywords, keyword_predictor, keyword_data, tmp_path):
    out_dir, _ = trained_keywords
    paths = [sorted((keyword_data[1] / word).iterdir())[0] for word in ("left", "stop", "yes")]
    assert main(["speech", "export", "--model", str(out_dir), "--out", str(tmp_path / "served")]) == 0
    served = serve(tmp_path / "served", SCRIPT, _clips(paths, tmp_path))
    assert served["imported"] == []
    expected = keyword_predictor.predict(paths)
    assert served["label"] == [row["label"] for row in expected]
    np.testing.assert_allclose(served["probability"], [row["probability"] for row in expected], atol=1e-5)


def test_ctc_model_serves_like_predict(tmp_path, tone):
    lines = []
    for index, text in enumerate(["yes", "no", "yes no", "no"]):
        tone(tmp_path / f"c{index}.wav", seconds=0.3, frequency=300.0 + 150 * index)
        lines.append(f"c{index}.wav\t{text}")
    (tmp_path / "train.tsv").write_text("\n".join(lines) + "\n")
    from applications import speech

    speech.train(data=str(tmp_path / "train.tsv"), out=str(tmp_path / "run"), epochs=2, batch_size=2, num_layers=1,
                 hidden_dim=16, num_heads=2, intermediate_dim=16, strategy="default", verbose=0, plot=False)
    predictor = applications.load(tmp_path / "run")
    paths = [tmp_path / f"c{index}.wav" for index in range(4)]
    served = serve(predictor.export(), SCRIPT, _clips(paths, tmp_path))
    assert served["imported"] == [] and served["transcript"] == [row["transcript"] for row in predictor.predict(paths)]
