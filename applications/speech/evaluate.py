"""Evaluating and applying a trained speech model (`keras-attn speech evaluate|predict`)."""

import os

import numpy as np

from applications.speech import data as speech_data
from applications.speech.classifier import SpeechClassifier
from applications.speech.error_rates import character_error_rate, word_error_rate
from applications.speech.model_io import clip_inputs, load_speech_model


def _model(model):
    return load_speech_model(model) if isinstance(model, (str, os.PathLike)) else model


def evaluate(model, data, batch_size=32, beam_width=None, skip_bad_files=False):
    """Scores of `model` (a model, folder or `.keras` file) on `data`.

    Classifier: `data` is a folder of class subfolders; returns `accuracy`
    and `num_examples`. Recognizer: `data` is a manifest; returns corpus
    `cer` and `wer` (greedy decoding, or beam search with `beam_width`) and
    `num_examples`.
    """
    model = _model(model)
    if isinstance(model, SpeechClassifier):
        paths, labels, found = speech_data.list_class_folders(data)
        unknown = sorted(set(found) - set(model.class_names or found))
        if unknown:
            raise ValueError(f"{os.fspath(data)!r} has classes the model does not know: {unknown}")
        names = model.class_names or found
        labels = np.asarray([names.index(found[label]) for label in labels])
        clips, kept = speech_data.load_clips(paths, skip_bad_files)
        probabilities = model.predict(clip_inputs(model, clips), batch_size=batch_size, verbose=0)
        accuracy = float(np.mean(np.argmax(probabilities, axis=-1) == labels[kept]))
        return {"accuracy": accuracy, "num_examples": len(kept)}
    pairs = speech_data.read_manifest(data)
    clips, kept = speech_data.load_clips([path for path, _ in pairs], skip_bad_files)
    references = [model.vocabulary.normalize(pairs[i][1]) for i in kept]
    hypotheses = model.transcribe(clip_inputs(model, clips), beam_width=beam_width, batch_size=batch_size)
    return {
        "cer": character_error_rate(references, hypotheses),
        "wer": word_error_rate(references, hypotheses),
        "num_examples": len(kept),
    }


def predict(model, paths, beam_width=None, batch_size=32, skip_bad_files=False):
    """One dict per readable clip: `input` and `label` + `probability` (classifier)
    or `transcript` (recognizer)."""
    model = _model(model)
    clips, kept = speech_data.load_clips(list(paths), skip_bad_files)
    inputs = clip_inputs(model, clips)
    names = [os.fspath(paths[i]) for i in kept]
    if isinstance(model, SpeechClassifier):
        probabilities = model.predict(inputs, batch_size=batch_size, verbose=0)
        best = np.argmax(probabilities, axis=-1)
        class_names = model.class_names or [str(i) for i in range(model.num_classes)]
        return [
            {"input": name, "label": class_names[index], "probability": float(row[index])}
            for name, index, row in zip(names, best, probabilities)
        ]
    transcripts = model.transcribe(inputs, beam_width=beam_width, batch_size=batch_size)
    return [{"input": name, "transcript": text} for name, text in zip(names, transcripts)]
