"""`keras-attn speech train --task transcribe`: a tiny encoder-decoder learns a few shipped
number phrases; evaluate/predict (JSON, beam search), long recordings joined at pauses, the
SavedModel in a fresh process, out-of-vocabulary transcripts, hybrid CTC and SentencePiece."""

import json

import numpy as np
import pytest
from serving import serve

import applications
from applications import speech
from applications.cli import main
from applications.speech import data as speech_data
from applications.speech.character_vocabulary import OutOfVocabularyError
from applications.speech.predictor import TranscriptionPredictor


def test_tiny_model_learns_a_few_shipped_number_phrases(trained_transcriber, transcriber_predictor, number_manifest):
    out_dir, summary = trained_transcriber
    manifest, pairs = number_manifest
    assert isinstance(transcriber_predictor, TranscriptionPredictor)
    scores = transcriber_predictor.evaluate(manifest)
    assert scores["clips"] == len(pairs) and scores["cer"] < 0.2, scores
    heard = transcriber_predictor.predict([path for path, _ in pairs])
    assert sum(row["transcript"] == text for row, (_, text) in zip(heard, pairs)) >= len(pairs) - 1, heard
    info = json.loads((out_dir / "run.json").read_text())
    assert info["task"] == "speech-transcription" and info["preprocessing"]["tokenizer"] == "characters"
    assert (out_dir / "tokenizer.json").is_file()


def test_a_long_recording_is_the_clips_transcripts_joined(transcriber_predictor, number_manifest):
    """Clips the model transcribes correctly, with half a second of silence between them: longer
    than the model reads at once, transcribed at the pauses, joined without losing or doubling."""
    _, pairs = number_manifest
    heard = transcriber_predictor.predict([path for path, _ in pairs])
    right = [(path, text) for (path, text), row in zip(pairs, heard) if row["transcript"] == text]
    assert len(right) >= 3, heard
    clips, _ = speech_data.load_clips([path for path, _ in right])
    silence = np.zeros(8000, "float32")
    recording = np.concatenate([part for clip in clips for part in (clip, silence)][:-1])
    assert len(recording) > transcriber_predictor.max_samples
    [joined] = transcriber_predictor.transcribe([recording])
    assert joined == " ".join(text for _, text in right)


def test_evaluate_and_predict_json(capsys, monkeypatch, trained_transcriber, transcriber_predictor, number_manifest):
    import applications.speech.commands as commands

    out_dir, _ = trained_transcriber
    manifest, pairs = number_manifest
    loaded = []  # the session's predictor, whose compiled decoders are reused
    monkeypatch.setattr(commands, "load_predictor", lambda args, tasks, command: loaded.append(args.model)
                        or transcriber_predictor)
    assert main(["speech", "evaluate", "--model", str(out_dir), "--data", str(manifest), "--json",
                 "--beam-width", "2"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert set(scores) == {"cer", "wer", "clips"} and scores["clips"] == len(pairs)
    assert main(["speech", "predict", "--model", str(out_dir), str(pairs[0][0]), "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert set(result) == {"input", "transcript"} and result["input"] == str(pairs[0][0])
    assert loaded == [str(out_dir)] * 2


SCRIPT = """
import numpy as np
model = tf.saved_model.load(sys.argv[1])
clips = np.load(sys.argv[2])
out = model.signatures["serving_default"](audio=tf.constant(clips["audio"]), sample_lengths=tf.constant(clips["lengths"]))
result = {"transcript": [text.decode() for text in out["transcript"].numpy()]}
"""


def test_export_serves_without_the_library_like_predict(transcriber_predictor, number_manifest, tmp_path):
    _, pairs = number_manifest
    paths = [path for path, _ in pairs]
    clips, _ = speech_data.load_clips(paths)
    audio, lengths = speech_data.pad_clips(clips, max(len(clip) for clip in clips) + 800)  # not the model's length
    np.savez(tmp_path / "clips.npz", audio=audio, lengths=lengths)
    served = serve(transcriber_predictor.export(str(tmp_path / "saved_model")), SCRIPT, tmp_path / "clips.npz")
    assert served["imported"] == []
    assert served["transcript"] == [row["transcript"] for row in transcriber_predictor.predict(paths)]


def test_transcript_outside_the_vocabulary_names_the_clip(tmp_path, tone):
    tone(tmp_path / "a.wav", seconds=0.2)
    tone(tmp_path / "b.wav", seconds=0.3, frequency=300.0)
    (tmp_path / "train.tsv").write_text("a.wav\tok\nb.wav\tcall 911\n")
    with pytest.raises(OutOfVocabularyError, match=r"b.wav.*\['1', '9'\]"):
        speech.train(data=str(tmp_path / "train.tsv"), out=str(tmp_path / "run"), task="transcribe", epochs=1,
                     batch_size=2, strategy="default", verbose=0)
    assert not (tmp_path / "run").exists()


def test_hybrid_ctc_weight_with_sentencepiece_trains(tmp_path, tone):
    lines = []
    for index, text in enumerate(["yes", "no", "yes no", "no yes"] * 2):
        tone(tmp_path / f"c{index}.wav", seconds=0.25, frequency=250.0 + 60 * index)
        lines.append(f"c{index}.wav\t{text}")
    (tmp_path / "train.tsv").write_text("\n".join(lines) + "\n")
    summary = speech.train(
        data=str(tmp_path / "train.tsv"), out=str(tmp_path / "run"), task="transcribe", ctc_weight=0.3,
        tokenizer="sentencepiece", vocabulary_size=12, epochs=1, batch_size=4, hidden_dim=16, num_heads=2,
        intermediate_dim=16, num_layers=1, decoder_layers=1, augment="speed,noise", no_xla=True, plot=False,
        strategy="default", verbose=0,
    )
    assert {"logits_loss", "ctc_loss"} <= set(summary) and np.isfinite(summary["loss"]), summary
    predictor = applications.load(tmp_path / "run")
    assert predictor.tokenizer.kind == "sentencepiece" and (tmp_path / "run" / "tokenizer.model").is_file()
    inputs = {"audio": np.zeros((1, predictor.max_samples), "float32"), "sample_lengths": np.array([4000])}
    assert isinstance(predictor.transcriber.decode_ids(predictor.transcriber.generate_ids(inputs))[0], str)
