"""The speech tasks: keyword classification, CTC recognition and transcription, on one recipe.

- `speech-classification` (`--task classify`): a folder of class subfolders of clips;
  `SpeechClassifier` (log-mel, `SpeechEncoder`, masked mean pooling, softmax).
- `speech-ctc` (`--task ctc`): a manifest of `path<TAB>transcript` lines; `CTCRecognizer`
  (log-mel, `SpeechEncoder`, per-step characters, CTC loss), scored by CER and WER.
- `speech-transcription` (`--task transcribe`): the same manifest; `SpeechToText`, Whisper's
  encoder-decoder (the encoder plus a Transformer decoder cross-attending to it, output tied
  to the token embedding), trained with teacher forcing and label smoothing (padding left
  out of the loss); characters (default) or SentencePiece tokens (`--tokenizer
  sentencepiece --vocabulary-size N`) after the prompt `<|startoftranscript|> <|transcribe|>`.
  `--ctc-weight W` adds a CTC head on the encoder (loss `(1 - W) * attention + W * CTC`,
  hybrid CTC/attention training; off by default). Decoded greedily or by beam search with
  the caches (`transcriber.Transcriber`).

Clips are read with librosa (mono, 16 kHz) and padded to one length (1.25 x the longest
training clip by default, `--max-seconds` to set it), so every batch has one static shape.
SpecAugment is on by default (`--no-spec-augment`); waveform augmentation (`--augment
speed,pitch,gain,eq,noise,reverb`, on the fly in `tf.data`, seeded; `augmentation.py`) and
per-utterance feature normalisation (`--normalize-features`) are options, on by default only
where `benchmarks/applications/speech_robustness.py` measured them to help: `--augment eq
--normalize-features` for keywords (robustness to another synthesizer's voices); off for
ctc and transcribe (not measured to help there).
AdamW, a peak learning rate after two epochs of linear warm-up, cosine decay to 5 % of it.

Defaults: `tiny` encoder (2 blocks, width 64), 15 epochs of 16 clips, learning rate 2e-3,
`--augment eq --normalize-features` — what `make demo` proves on the shipped keywords (0.975
accuracy on 80 clips of 14 unseen, synthetic voices, in 23 s on a 2-core CPU). The CTC
defaults are those of its benchmark (`benchmarks/applications/speech_quality.py`: width 96,
60 epochs of 8 clips, 3e-3); the transcription defaults (width 96, 2 + 2 blocks, 40 epochs
of 16 clips, 2e-3, label smoothing 0.1) those of `benchmarks/applications/speech_transcribe.py`
(CER 0.047, WER 0.078 on the 60 test number phrases after 300 s, about 40 epochs).

`--init` starts the encoder from a speech run folder (any task) or a keras-hub
`WhisperBackbone` preset (`keras_hub:whisper_tiny_en`: Whisper's encoder and its 80-bin
log-mel front end; the dimension flags are then ignored). For `--task transcribe` a
keras-hub preset gives the whole Whisper model (encoder, decoder, embeddings) and its
tokenizer: a pretrained transcriber to fine-tune or use as it is.
"""

import math

from applications.skeleton.task import OptimizerRecipe, Task, TaskData
from applications.speech.sizes import SIZES

CLASSIFY, CTC, TRANSCRIBE = "speech-classification", "speech-ctc", "speech-transcription"
TASK_FLAGS = {"classify": CLASSIFY, "ctc": CTC, "transcribe": TRANSCRIBE}
HOP = 160  # samples per log-mel frame at 16 kHz

_COMMON_DEFAULTS = dict(
    size="tiny", epochs=15, batch_size=16, learning_rate=2e-3, weight_decay=0.01, dropout_rate=0.1,
    max_seconds=None, spec_augment=True, characters="abcdefghijklmnopqrstuvwxyz' ", drop_unknown_characters=False,
    plot=True, shuffle=True, augment="none", normalize_features=False,
)


class SpeechTask(Task):
    """What the speech tasks share (data reading, encoder, augmentation, optimizer)."""

    family = "speech"
    sizes = SIZES
    recipe = OptimizerRecipe(optimizer="adamw", schedule="cosine", final_learning_rate_fraction=0.05,
                             no_weight_decay=())
    defaults_note = ("The defaults are tuned for one-second keyword clips on a CPU (make demo: 0.975 accuracy on "
                     "unseen synthetic voices in about 25 s); --task ctc and --task transcribe use their "
                     "benchmarks' settings (transcribe: CER 0.05 on unseen number phrases in about 5 minutes).")

    def warmup_steps(self, settings, total_steps, steps_per_epoch):
        if settings.warmup_steps is not None:
            return int(settings.warmup_steps)
        return min(total_steps - 1, 2 * steps_per_epoch)  # two epochs

    # -- data (the steps a task fills in: load_split, prepare, arrays) ----------------------------

    def prepare(self, settings, train_set, run):
        """What the arrays need beyond the clips (a tokenizer); returns a dict kept in extras."""
        return {}

    def arrays(self, split, prepared):
        """`(targets, extra model inputs or None)` of a loaded split."""
        return split["targets"], None

    def assets(self, prepared):
        return {}

    def read_data(self, settings, run):
        from applications.speech import data as speech_data
        from applications.speech.augmentation import parse_augment

        max_samples = None if settings.max_seconds is None else int(round(settings.max_seconds * 16000))
        train_set = self.load_split(settings.data, max_samples, settings)
        max_samples = train_set["max_samples"]
        prepared = self.prepare(settings, train_set, run)
        num_clips = len(train_set["audio"])
        global_batch = run.global_batch_size(settings.batch_size)
        if num_clips < global_batch:
            raise ValueError(
                f"{num_clips} training clips are fewer than one global batch of {global_batch} "
                f"(--batch-size {settings.batch_size} x {run.num_replicas} replicas); lower --batch-size."
            )
        targets, extra_inputs = self.arrays(train_set, prepared)
        train = speech_data.make_dataset(train_set["audio"], train_set["sample_lengths"], targets, global_batch,
                                         shuffle=settings.shuffle, seed=settings.seed, repeat=True,
                                         augment=parse_augment(settings.augment), extra_inputs=extra_inputs)
        validation, validation_set = None, None
        if settings.validation_data:
            validation_set = self.load_split(settings.validation_data, max_samples, settings, train_set)
            validation = self.validation_dataset(validation_set, global_batch, prepared)
        return TaskData(
            train=train, validation=validation, steps_per_epoch=num_clips // global_batch,
            num_train_examples=num_clips,
            preprocessing={"sample_rate": speech_data.SAMPLE_RATE, "max_samples": max_samples},
            assets=self.assets(prepared),
            extras=dict(prepared, train_set=train_set, validation_set=validation_set, max_samples=max_samples),
        )

    def validation_dataset(self, validation_set, global_batch, prepared):
        return None

    def character_vocabulary(self, settings):
        from applications.speech.character_vocabulary import CharacterVocabulary

        return CharacterVocabulary(settings.characters, unknown="drop" if settings.drop_unknown_characters else "error")

    def read_manifest_clips(self, manifest, max_samples, settings, normalize):
        """Clips and normalised transcripts of a manifest; an unusable transcript names its clip."""
        from applications.speech import data as speech_data
        from applications.speech.character_vocabulary import OutOfVocabularyError

        pairs = speech_data.read_manifest(manifest)
        for path, text in pairs:
            try:
                normalize(text)
            except OutOfVocabularyError as error:
                raise OutOfVocabularyError(f"{path}: {error}") from None
        clips, kept = speech_data.load_clips([path for path, _ in pairs], settings.skip_bad_files)
        max_samples = max_samples or _max_samples(clips)
        audio, lengths = speech_data.pad_clips(clips, max_samples, [pairs[i][0] for i in kept])
        return {"audio": audio, "sample_lengths": lengths, "max_samples": max_samples,
                "paths": [pairs[i][0] for i in kept], "transcripts": [normalize(pairs[i][1]) for i in kept]}

    # -- model ------------------------------------------------------------------------------------

    def model_config(self, settings, data):
        encoder = data.extras.get("encoder")
        if encoder is None:
            return {}
        config = encoder.get_config()
        return {key: config[key] for key in ("hidden_dim", "num_layers", "num_heads", "intermediate_dim",
                                             "num_mel_bins", "max_frames")}

    def build_encoder(self, settings, data, init):
        """A new `SpeechEncoder`, or the one `--init` names; returns `(encoder, front_end)`."""
        from applications.speech.speech_encoder import SpeechEncoder
        from keras_attn.layers import LogMelSpectrogram

        dimensions = self.sizes.decode(settings.size, num_layers=settings.num_layers, hidden_dim=settings.hidden_dim,
                                       num_heads=settings.num_heads, intermediate_dim=settings.intermediate_dim)
        front_end = LogMelSpectrogram(num_mel_bins=80, name="log_mel")
        max_frames = front_end.num_frames(data.extras["max_samples"])
        if init is None:
            encoder = SpeechEncoder(**dimensions, num_mel_bins=80, max_frames=max_frames,
                                    dropout_rate=settings.dropout_rate)
        else:
            encoder = init_encoder(init, settings.dropout_rate)
            if encoder.num_mel_bins != front_end.num_mel_bins:
                front_end = LogMelSpectrogram(num_mel_bins=encoder.num_mel_bins, name="log_mel")
        data.extras["encoder"] = encoder
        return encoder, front_end

    def spec_augment(self, settings):
        from keras_attn.layers import SpecAugment

        if not settings.spec_augment:
            return None
        return SpecAugment(time_masks=2, time_mask_width=10, frequency_masks=2, frequency_mask_width=10,
                           seed=settings.seed, name="spec_augment")

    def feature_normalization(self, settings):
        """An `UtteranceNormalization` with `--normalize-features`, else `None`."""
        if not settings.normalize_features:
            return None
        from applications.speech.utterance_normalization import UtteranceNormalization

        return UtteranceNormalization(name="utterance_normalization")

    def model_inputs(self, settings):
        """The keyword arguments every speech model takes from the shared settings."""
        return dict(spec_augment=self.spec_augment(settings), dropout_rate=settings.dropout_rate,
                    feature_normalization=self.feature_normalization(settings))


def _max_samples(clips):
    """The longest clip plus a quarter (so slightly longer test clips fit), in whole frames."""
    return int(math.ceil(1.25 * max(len(clip) for clip in clips) / HOP) * HOP)


class SpeechClassificationTask(SpeechTask):
    """Keyword classification from a folder of class subfolders of clips.

    Its defaults include `--augment eq --normalize-features`: on the voices of another
    synthesizer they raise the accuracy from 0.335 to 0.390 (mean of 5 seeds, every seed
    better), at 0.988 instead of 0.995 on the usual unseen espeak-ng voices
    (`benchmarks/APPLICATIONS.md`, "Speech robustness"); no other augmentation helped there.
    """

    name = CLASSIFY
    defaults = dict(_COMMON_DEFAULTS, augment="eq", normalize_features=True)

    def load_split(self, folder, max_samples, settings, train_set=None):
        import numpy as np

        from applications.skeleton.classification import check_known_labels
        from applications.speech import data as speech_data

        paths, labels, found = speech_data.list_class_folders(folder)
        class_names = found
        if train_set is not None:
            class_names = train_set["class_names"]
            check_known_labels(found, class_names, folder)
            labels = np.asarray([class_names.index(found[label]) for label in labels], "int32")
        clips, kept = speech_data.load_clips(paths, settings.skip_bad_files)
        max_samples = max_samples or _max_samples(clips)
        audio, lengths = speech_data.pad_clips(clips, max_samples, [paths[i] for i in kept])
        return {"audio": audio, "sample_lengths": lengths, "targets": labels[kept], "max_samples": max_samples,
                "paths": [paths[i] for i in kept], "class_names": class_names}

    def validation_dataset(self, validation_set, global_batch, prepared):
        from applications.speech import data as speech_data

        return speech_data.make_dataset(validation_set["audio"], validation_set["sample_lengths"],
                                        validation_set["targets"], global_batch, drop_remainder=False)

    def build_model(self, settings, data, init):
        from applications.speech.classifier import SpeechClassifier

        encoder, front_end = self.build_encoder(settings, data, init)
        names = data.extras["train_set"]["class_names"]
        data.preprocessing["class_names"] = list(names)
        return SpeechClassifier(encoder, num_classes=len(names), class_names=names,
                                max_samples=data.extras["max_samples"], front_end=front_end,
                                **self.model_inputs(settings))

    def loss_and_metrics(self, settings, data):
        return "sparse_categorical_crossentropy", ["accuracy"]

    def after_training(self, model, data, settings):
        _plot(model, data, settings)
        return {}


class SpeechCTCTask(SpeechTask):
    """Character recognition with CTC from a manifest of clips and transcripts."""

    name = CTC
    defaults = dict(_COMMON_DEFAULTS, epochs=60, batch_size=8, learning_rate=3e-3, hidden_dim=96)

    def load_split(self, manifest, max_samples, settings, train_set=None):
        from applications.speech import data as speech_data

        vocabulary = self.character_vocabulary(settings)
        split = self.read_manifest_clips(manifest, max_samples, settings, vocabulary.normalize)
        split["targets"] = speech_data.encode_transcripts(split["transcripts"], vocabulary)
        return split

    def build_model(self, settings, data, init):
        from applications.speech.ctc_recognizer import CTCRecognizer

        encoder, front_end = self.build_encoder(settings, data, init)
        data.preprocessing["characters"] = settings.characters
        return CTCRecognizer(encoder, characters=settings.characters, max_samples=data.extras["max_samples"],
                             front_end=front_end, **self.model_inputs(settings))

    def loss_and_metrics(self, settings, data):
        from applications.speech.ctc import CTCLoss

        return CTCLoss(), []

    def after_training(self, model, data, settings):
        """CER and WER on `--validation-data` (CTC validation decodes, which `fit` cannot)."""
        _plot(model, data, settings)
        validation = data.extras["validation_set"]
        if validation is None:
            return {}
        hypotheses = model.transcribe({"audio": validation["audio"], "sample_lengths": validation["sample_lengths"]})
        return _error_rates(validation["transcripts"], hypotheses)


def _error_rates(references, hypotheses):
    from applications.speech.error_rates import character_error_rate, word_error_rate

    return {"val_cer": character_error_rate(references, hypotheses),
            "val_wer": word_error_rate(references, hypotheses)}


class SpeechTranscriptionTask(SpeechTask):
    """Whisper-style transcription: an encoder-decoder trained with teacher forcing."""

    name = TRANSCRIBE
    defaults = dict(_COMMON_DEFAULTS, epochs=40, batch_size=16, learning_rate=2e-3, hidden_dim=96,
                    tokenizer="characters", vocabulary_size=None, label_smoothing=0.1, ctc_weight=0.0,
                    decoder_layers=None)

    def load_split(self, manifest, max_samples, settings, train_set=None):
        from applications.speech.transcript_tokenizer import normalize_text

        if settings.tokenizer == "sentencepiece":
            normalize = normalize_text
        else:
            normalize = self.character_vocabulary(settings).normalize
        return self.read_manifest_clips(manifest, max_samples, settings, normalize)

    def prepare(self, settings, train_set, run):
        """The tokenizer (SentencePiece trained on the training transcripts, or kept from a
        resumed run), the decoder length, and the CTC vocabulary of `--ctc-weight`."""
        import os

        from applications.skeleton.errors import FlagError
        from applications.skeleton.init import parse_init
        from applications.speech import transcript_tokenizer as tokenizers

        if settings.tokenizer not in tokenizers.KINDS:
            raise FlagError(f"--tokenizer must be one of {list(tokenizers.KINDS)}. Received: {settings.tokenizer!r}")
        if not 0.0 <= float(settings.ctc_weight) < 1.0:
            raise FlagError(f"--ctc-weight must be in [0, 1). Received: {settings.ctc_weight}")
        init = parse_init(settings.init)
        if init is not None and init.kind == "keras_hub":  # Whisper's own tokenizer
            try:
                tokenizer = tokenizers.WhisperTokens.from_preset(init.value)
            except Exception as error:  # noqa: BLE001 - keras-hub raises many kinds
                raise FlagError(f"--init {init}: no Whisper tokenizer in the preset ({type(error).__name__}: "
                                f"{str(error)[:200]})") from error
        elif settings.tokenizer == "sentencepiece":
            if not settings.vocabulary_size:
                raise FlagError("--tokenizer sentencepiece needs --vocabulary-size N (e.g. 200)")
            path = os.path.join(os.path.abspath(settings.out), tokenizers.SENTENCEPIECE_FILE)
            if os.path.exists(path):  # a resumed run keeps its vocabulary
                with open(path, "rb") as file:
                    tokenizer = tokenizers.SentencePieceTokenizer(file.read())
            else:
                tokenizer = tokenizers.SentencePieceTokenizer.train(train_set["transcripts"], settings.vocabulary_size)
        else:
            tokenizer = tokenizers.CharacterTokenizer(settings.characters,
                                                      unknown="drop" if settings.drop_unknown_characters else "error")
        longest = max(len(tokenizer.encode(text)) for text in train_set["transcripts"])
        # The prompt, the longest transcript plus a quarter (longer test transcripts fit), the end.
        max_target_length = len(tokenizer.prompt_ids) + int(math.ceil(1.25 * longest)) + 1
        prepared = {"tokenizer": tokenizer, "max_target_length": max_target_length}
        if settings.ctc_weight:
            prepared["ctc_vocabulary"] = self.character_vocabulary(settings)
        return prepared

    def arrays(self, split, prepared):
        from applications.speech import data as speech_data

        decoder_inputs, labels = speech_data.encode_decoder_sequences(
            split["transcripts"], prepared["tokenizer"], prepared["max_target_length"], split["paths"])
        extra_inputs = {"decoder_token_ids": decoder_inputs}
        if "ctc_vocabulary" not in prepared:
            return labels, extra_inputs
        ctc_labels = speech_data.encode_transcripts(split["transcripts"], prepared["ctc_vocabulary"])
        return {"logits": labels, "ctc": ctc_labels}, extra_inputs

    def assets(self, prepared):
        tokenizer = prepared["tokenizer"]
        return {tokenizer.file_name: tokenizer.to_bytes()}

    def model_config(self, settings, data):
        config = super().model_config(settings, data)
        model = data.extras.get("model")
        if model is not None:
            config.update(decoder_layers=model.decoder_layers, vocabulary_size=model.vocabulary_size,
                          max_target_length=model.max_target_length, tokenizer=data.extras["tokenizer"].kind,
                          ctc_head=bool(model.ctc_characters))
        return config

    def build_model(self, settings, data, init):
        from applications.speech.speech_to_text import SpeechToText

        tokenizer = data.extras["tokenizer"]
        data.preprocessing.update(tokenizer=tokenizer.kind, tokenizer_file=tokenizer.file_name)
        if init is not None and init.kind == "keras_hub":
            return self._whisper(settings, data, init)
        encoder, front_end = self.build_encoder(settings, data, init)
        ctc_characters = settings.characters if settings.ctc_weight else None
        data.extras["model"] = SpeechToText(
            encoder, vocabulary_size=tokenizer.vocabulary_size, max_target_length=data.extras["max_target_length"],
            decoder_layers=settings.decoder_layers, max_samples=data.extras["max_samples"], front_end=front_end,
            ctc_characters=ctc_characters, **self.model_inputs(settings),
        )
        return data.extras["model"]

    def _whisper(self, settings, data, init):
        """The whole Whisper of a keras-hub preset, reading 16 kHz audio (its front end's bins)."""
        from applications.skeleton.init import load_keras_hub_backbone
        from applications.speech.keras_hub_conversion import from_keras_hub_whisper
        from keras_attn.layers import LogMelSpectrogram

        backbone = load_keras_hub_backbone(init, ("WhisperBackbone",), "speech")
        front_end = LogMelSpectrogram(num_mel_bins=backbone.num_mels, name="log_mel")
        if front_end.num_frames(data.extras["max_samples"]) > backbone.max_encoder_sequence_length:
            from applications.skeleton.errors import FlagError

            raise FlagError(f"--init {init}: clips of {data.extras['max_samples'] / 16000:.1f} s are longer than "
                            f"Whisper's window; lower --max-seconds")
        ctc_characters = settings.characters if settings.ctc_weight else None
        model = from_keras_hub_whisper(backbone, decoder=True, dropout_rate=settings.dropout_rate, speech_to_text_args=dict(
            audio_input=True, max_samples=data.extras["max_samples"], front_end=front_end,
            max_target_length=min(data.extras["max_target_length"], backbone.max_decoder_sequence_length),
            ctc_characters=ctc_characters, name="speech_to_text", **self.model_inputs(settings)))
        data.extras["encoder"], data.extras["model"] = model.encoder, model
        return model

    def loss_and_metrics(self, settings, data):
        from keras_attn.training import MaskedAccuracy, MaskedSparseCategoricalCrossentropy

        loss = MaskedSparseCategoricalCrossentropy(ignore_class=0, label_smoothing=settings.label_smoothing)
        accuracy = MaskedAccuracy(ignore_class=0, name="accuracy")
        if not settings.ctc_weight:
            return loss, [accuracy]
        from applications.speech.ctc import CTCLoss

        return {"logits": loss, "ctc": CTCLoss()}, {"logits": [accuracy]}

    def loss_weights(self, settings, data):
        if not settings.ctc_weight:
            return None
        return {"logits": 1.0 - float(settings.ctc_weight), "ctc": float(settings.ctc_weight)}

    def after_training(self, model, data, settings):
        """Greedy CER and WER on `--validation-data`."""
        _plot(model, data, settings)
        validation = data.extras["validation_set"]
        if validation is None:
            return {}
        from applications.speech.transcriber import Transcriber

        transcriber = Transcriber(model, data.extras["tokenizer"])
        hypotheses = transcriber.transcribe({"audio": validation["audio"],
                                             "sample_lengths": validation["sample_lengths"]})
        return _error_rates(validation["transcripts"], hypotheses)


def _plot(model, data, settings):
    """The first training clip's log-mel and attention picture, `OUT/attention.png`."""
    if not settings.plot:
        return
    import os

    from applications.speech.plots import plot_log_mel_and_attention

    train_set = data.extras["train_set"]
    clip = train_set["audio"][0, : train_set["sample_lengths"][0]]
    plot_log_mel_and_attention(model, clip, os.path.join(os.path.abspath(settings.out), "attention.png"),
                               title=os.path.basename(str(train_set["paths"][0])))


_TASKS = {"classify": lambda: SpeechClassificationTask(), "ctc": lambda: SpeechCTCTask(),
          "transcribe": lambda: SpeechTranscriptionTask()}


def task_for(data, task_flag=None):
    """The task of `--task` (`classify`, `ctc`, `transcribe`), or by the data: a manifest
    file -> ctc, a folder -> classify."""
    from applications.skeleton.errors import FlagError

    if task_flag is None:
        from applications.speech.data import is_manifest

        task_flag = "ctc" if is_manifest(data) else "classify"
    if task_flag not in TASK_FLAGS:
        raise FlagError(f"--task must be one of {sorted(TASK_FLAGS)}. Received: {task_flag!r}")
    return _TASKS[task_flag]()


def init_encoder(init, dropout_rate=0.0):
    """The `SpeechEncoder` an `--init` starts from: a speech run folder or `.keras` file (any
    task), or a keras-hub `WhisperBackbone` preset (its encoder)."""
    from applications.skeleton.errors import FlagError

    if init.kind == "keras_hub":
        from applications.skeleton.init import load_keras_hub_backbone
        from applications.speech.keras_hub_conversion import from_keras_hub_whisper

        backbone = load_keras_hub_backbone(init, ("WhisperBackbone",), "speech")
        return from_keras_hub_whisper(backbone, dropout_rate=dropout_rate)
    from applications import load
    from applications.skeleton.loading import load_keras_model

    model = (load(init.value, tasks=(CLASSIFY, CTC, TRANSCRIBE), command="speech train --init").model
             if init.kind == "run" else load_keras_model(init.value))
    encoder = getattr(model, "encoder", None)
    if encoder is None:
        raise FlagError(f"--init {init}: the model holds no SpeechEncoder")
    return encoder
