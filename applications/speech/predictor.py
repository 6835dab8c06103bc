"""Speech predictors: a trained run folder -> labels or transcripts, scores, pictures, SavedModel.

    predictor = applications.load("runs/kw")          # SpeechClassifierPredictor
    predictor.predict(["clip.wav"])                    # [{"input", "label", "probability"}]
    predictor.evaluate("test_clips/")                  # {"accuracy", "clips"}
    predictor = applications.load("runs/asr")         # CTCPredictor
    predictor.predict(["clip.wav"], beam_width=8)      # [{"input", "transcript"}]
    predictor.evaluate("test.tsv")                     # {"cer", "wer", "clips"}
    predictor.export()                                 # waveform (16 kHz) + lengths in, answers out

Clips are read as in training (mono, 16 kHz) and padded or cut to the model's length.
"""

import os

import numpy as np

from applications.skeleton.predictor import Predictor
from applications.speech.task import CLASSIFY, CTC


class SpeechPredictor(Predictor):
    """What the speech predictors share: reading clips, the picture, legacy folders."""

    @classmethod
    def from_model(cls, model):
        return cls(model)

    @property
    def max_samples(self):
        return self.model.max_samples

    def read_clips(self, paths, skip_bad_files=False):
        """`(inputs, kept paths)`: `{"audio", "sample_lengths"}` padded to the model's length."""
        from applications.speech import data as speech_data

        clips, kept = speech_data.load_clips(list(paths), skip_bad_files)
        audio, lengths = speech_data.pad_clips(clips, self.max_samples)
        return {"audio": audio, "sample_lengths": lengths}, [os.fspath(paths[i]) for i in kept]

    def plot(self, clip, out, layer_index=-1):
        """The clip's log-mel spectrogram and one encoder block's attention, as a PNG."""
        from applications.speech.data import load_audio
        from applications.speech.plots import plot_log_mel_and_attention

        audio = load_audio(clip)[: self.max_samples]
        return plot_log_mel_and_attention(self.model, audio, out, title=os.fspath(clip), layer_index=layer_index)


class SpeechClassifierPredictor(SpeechPredictor):
    """Predictor of a `speech-classification` run."""

    task = CLASSIFY
    model_classes = ("applications.speech>SpeechClassifier", "keras_attn>SpeechClassifier")

    @property
    def class_names(self):
        return self.model.class_names or [str(i) for i in range(self.model.num_classes)]

    def predict(self, clips, batch_size=32, skip_bad_files=False):
        inputs, names = self.read_clips(clips, skip_bad_files)
        probabilities = self.model.predict(inputs, batch_size=batch_size, verbose=0)
        best = np.argmax(probabilities, axis=-1)
        return [{"input": name, "label": self.class_names[index], "probability": float(row[index])}
                for name, index, row in zip(names, best, probabilities)]

    def evaluate(self, data, batch_size=32, skip_bad_files=False):
        """Accuracy on a folder of class subfolders (a subset of the model's classes is fine)."""
        from applications.skeleton.classification import check_known_labels
        from applications.speech import data as speech_data

        paths, labels, found = speech_data.list_class_folders(data)
        check_known_labels(found, self.class_names, data)
        labels = np.asarray([self.class_names.index(found[label]) for label in labels])
        clips, kept = speech_data.load_clips(paths, skip_bad_files)
        audio, lengths = speech_data.pad_clips(clips, self.max_samples)
        probabilities = self.model.predict({"audio": audio, "sample_lengths": lengths}, batch_size=batch_size,
                                           verbose=0)
        return {"accuracy": float(np.mean(np.argmax(probabilities, axis=-1) == labels[kept])), "clips": len(kept)}

    def serving_module(self):
        from applications.speech.export import classifier_serving_module

        return classifier_serving_module(self.model)


class CTCPredictor(SpeechPredictor):
    """Predictor of a `speech-ctc` run."""

    task = CTC
    model_classes = ("applications.speech>CTCRecognizer", "keras_attn>CTCRecognizer")

    def predict(self, clips, beam_width=None, batch_size=32, skip_bad_files=False):
        inputs, names = self.read_clips(clips, skip_bad_files)
        transcripts = self.model.transcribe(inputs, beam_width=beam_width, batch_size=batch_size)
        return [{"input": name, "transcript": text} for name, text in zip(names, transcripts)]

    def evaluate(self, data, beam_width=None, batch_size=32, skip_bad_files=False):
        """Corpus CER and WER on a manifest (greedy decoding, or beam search with `beam_width`)."""
        from applications.speech import data as speech_data
        from applications.speech.error_rates import character_error_rate, word_error_rate

        pairs = speech_data.read_manifest(data)
        clips, kept = speech_data.load_clips([path for path, _ in pairs], skip_bad_files)
        references = [self.model.vocabulary.normalize(pairs[i][1]) for i in kept]
        audio, lengths = speech_data.pad_clips(clips, self.max_samples)
        hypotheses = self.model.transcribe({"audio": audio, "sample_lengths": lengths}, beam_width=beam_width,
                                           batch_size=batch_size)
        return {"cer": character_error_rate(references, hypotheses), "wer": word_error_rate(references, hypotheses),
                "clips": len(kept)}

    def serving_module(self):
        from applications.speech.export import ctc_serving_module

        return ctc_serving_module(self.model)
