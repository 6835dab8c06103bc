"""Speech predictors: a trained run folder -> labels or transcripts, scores, pictures, SavedModel.

    predictor = applications.load("runs/kw")          # SpeechClassifierPredictor
    predictor.predict(["clip.wav"])                    # [{"input", "label", "probability"}]
    predictor.evaluate("test_clips/")                  # {"accuracy", "clips"}
    predictor = applications.load("runs/asr")         # CTCPredictor
    predictor.predict(["clip.wav"], beam_width=8)      # [{"input", "transcript"}]
    predictor.evaluate("test.tsv")                     # {"cer", "wer", "clips"}
    predictor = applications.load("runs/whisper")     # TranscriptionPredictor
    predictor.predict(["long.wav"], beam_width=4)      # [{"input", "transcript"}], any length
    predictor.export()                                 # waveform (16 kHz) + lengths in, answers out

Clips are read as in training (mono, 16 kHz). The keyword classifier pads or cuts them to
the model's length; the recognisers (CTC, transcription) transcribe a clip longer than the
model's length in pieces cut at pauses, with overlapping windows where speech runs on, and
join the texts (`long_recordings`).
"""

import os

import numpy as np

from applications.skeleton.predictor import Predictor
from applications.speech.long_recordings import MIN_SILENCE, OVERLAP, SILENCE_DB, transcribe_long
from applications.speech.task import CLASSIFY, CTC, TRANSCRIBE


class SpeechPredictor(Predictor):
    """What the speech predictors share: reading clips, the picture, legacy folders."""

    @classmethod
    def from_model(cls, model):
        return cls(model)

    @property
    def max_samples(self):
        return self.model.max_samples

    def read_clips(self, paths, skip_bad_files=False):
        """`(inputs, kept paths)`: `{"audio", "sample_lengths"}` padded to the model's length; a
        clip longer than that is cut, with a warning naming it."""
        from applications.speech import data as speech_data

        paths = list(paths)
        clips, kept = speech_data.load_clips(paths, skip_bad_files)
        names = [os.fspath(paths[i]) for i in kept]
        audio, lengths = speech_data.pad_clips(clips, self.max_samples, names)
        return {"audio": audio, "sample_lengths": lengths}, names

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
        audio, lengths = speech_data.pad_clips(clips, self.max_samples, [paths[i] for i in kept])
        probabilities = self.model.predict({"audio": audio, "sample_lengths": lengths}, batch_size=batch_size,
                                           verbose=0)
        return {"accuracy": float(np.mean(np.argmax(probabilities, axis=-1) == labels[kept])), "clips": len(kept)}

    def serving_module(self):
        from applications.speech.export import classifier_serving_module

        return classifier_serving_module(self.model)


class RecognizerPredictor(SpeechPredictor):
    """What the CTC and transcription predictors share: clips of any length -> transcripts
    (`transcribe_padded` is the model's), CER and WER on a manifest."""

    def normalize(self, text):
        """A reference transcript as the model's transcripts are written."""
        raise NotImplementedError

    def transcribe_padded(self, inputs, batch_size=32, **decoding):
        """Transcripts of `{"audio", "sample_lengths"}` padded to the model's length."""
        raise NotImplementedError

    def transcribe(self, clips, batch_size=32, overlap=OVERLAP, silence_db=SILENCE_DB, min_silence=MIN_SILENCE,
                   **decoding):
        """Transcripts of 1-D float32 clips (16 kHz) of any length (`long_recordings`)."""
        from applications.speech import data as speech_data

        def pieces_to_texts(pieces):
            audio, lengths = speech_data.pad_clips(pieces, self.max_samples)
            return self.transcribe_padded({"audio": audio, "sample_lengths": lengths}, batch_size=batch_size,
                                          **decoding)

        return transcribe_long(clips, self.max_samples, pieces_to_texts, overlap, silence_db, min_silence)

    def predict(self, clips, batch_size=32, skip_bad_files=False, **options):
        """One `{"input", "transcript"}` per readable clip; `options`: `beam_width`
        (and `length_penalty` for transcription), `overlap`, `silence_db`, `min_silence`."""
        from applications.speech import data as speech_data

        audio, kept = speech_data.load_clips(list(clips), skip_bad_files)
        texts = self.transcribe(audio, batch_size=batch_size, **options)
        return [{"input": os.fspath(clips[i]), "transcript": text} for i, text in zip(kept, texts)]

    def evaluate(self, data, batch_size=32, skip_bad_files=False, **options):
        """Corpus CER and WER on a manifest (greedy decoding, or beam search with `beam_width`)."""
        from applications.speech import data as speech_data
        from applications.speech.error_rates import character_error_rate, word_error_rate

        pairs = speech_data.read_manifest(data)
        clips, kept = speech_data.load_clips([path for path, _ in pairs], skip_bad_files)
        references = [self.normalize(pairs[i][1]) for i in kept]
        hypotheses = [self.normalize(text) for text in self.transcribe(clips, batch_size=batch_size, **options)]
        return {"cer": character_error_rate(references, hypotheses), "wer": word_error_rate(references, hypotheses),
                "clips": len(kept)}


class CTCPredictor(RecognizerPredictor):
    """Predictor of a `speech-ctc` run."""

    task = CTC
    model_classes = ("applications.speech>CTCRecognizer", "keras_attn>CTCRecognizer")

    def normalize(self, text):
        return self.model.vocabulary.normalize(text)

    def transcribe_padded(self, inputs, batch_size=32, beam_width=None):
        return self.model.transcribe(inputs, beam_width=beam_width, batch_size=batch_size)

    def serving_module(self):
        from applications.speech.export import ctc_serving_module

        return ctc_serving_module(self.model)


class TranscriptionPredictor(RecognizerPredictor):
    """Predictor of a `speech-transcription` run: a `SpeechToText` model and its tokenizer."""

    task = TRANSCRIBE
    model_classes = ("applications.speech>SpeechToText",)

    def __init__(self, model, tokenizer, info=None, folder=None):
        from applications.speech.transcriber import Transcriber

        super().__init__(model, info, folder)
        self.tokenizer = tokenizer
        self.transcriber = Transcriber(model, tokenizer)

    @classmethod
    def from_model(cls, model):
        from applications.skeleton.errors import RunFolderError

        raise RunFolderError("a speech-transcription model needs its run folder (its tokenizer is there): pass "
                             "the folder")

    @classmethod
    def from_run(cls, folder, info):
        from applications.skeleton.errors import RunFolderError
        from applications.skeleton.loading import load_keras_model
        from applications.speech.transcript_tokenizer import load_tokenizer

        preprocessing = info.get("preprocessing", {})
        path = folder.file(preprocessing.get("tokenizer_file", "tokenizer.json"))
        if not os.path.isfile(path):
            raise RunFolderError(f"{folder.path} is a damaged transcription run: {path} is missing")
        with open(path, "rb") as file:
            tokenizer = load_tokenizer(preprocessing.get("tokenizer", "characters"), file.read())
        return cls(load_keras_model(folder.model_path), tokenizer, info, folder)

    def normalize(self, text):
        return self.tokenizer.normalize(text)

    def transcribe_padded(self, inputs, batch_size=32, beam_width=None, length_penalty=0.6):
        return self.transcriber.transcribe(inputs, beam_width=beam_width, length_penalty=length_penalty,
                                           batch_size=batch_size)

    def serving_module(self):
        from applications.speech.export import transcriber_serving_module

        return transcriber_serving_module(self.transcriber)
