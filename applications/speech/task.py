"""The speech tasks: keyword classification and CTC recognition, on one recipe.

- `speech-classification` (`--task classify`): a folder of class subfolders of clips;
  `SpeechClassifier` (log-mel, `SpeechEncoder`, masked mean pooling, softmax).
- `speech-ctc` (`--task ctc`): a manifest of `path<TAB>transcript` lines; `CTCRecognizer`
  (log-mel, `SpeechEncoder`, per-step characters, CTC loss), scored by CER and WER.

Clips are read with librosa (mono, 16 kHz) and padded to one length (1.25 x the longest
training clip by default, `--max-seconds` to set it), so every batch has one static shape.
SpecAugment is on by default (`--no-spec-augment`). AdamW, a peak learning rate after two
epochs of linear warm-up, cosine decay to 5 % of it.

Defaults: `tiny` encoder (2 blocks, width 64), 15 epochs of 16 clips, learning rate 2e-3 —
what `make demo` proves on the shipped keywords (1.00 accuracy on 80 clips of 14 unseen,
synthetic voices). The CTC defaults are those of its benchmark
(`benchmarks/applications/speech_quality.py`: width 96, 60 epochs of 8 clips, 3e-3).

`--init` starts the encoder from a speech run folder (either task) or a keras-hub
`WhisperBackbone` preset (`keras_hub:whisper_tiny_en`: Whisper's encoder and its 80-bin
log-mel front end; the dimension flags are then ignored).
"""

import math

from applications.skeleton.task import OptimizerRecipe, Task, TaskData
from applications.speech.sizes import SIZES

CLASSIFY, CTC = "speech-classification", "speech-ctc"
TASK_FLAGS = {"classify": CLASSIFY, "ctc": CTC}
HOP = 160  # samples per log-mel frame at 16 kHz

_COMMON_DEFAULTS = dict(
    size="tiny", epochs=15, batch_size=16, learning_rate=2e-3, weight_decay=0.01, dropout_rate=0.1,
    max_seconds=None, spec_augment=True, characters="abcdefghijklmnopqrstuvwxyz' ", drop_unknown_characters=False,
    plot=True, shuffle=True,
)


class SpeechTask(Task):
    """What the two speech tasks share (data reading, encoder, optimizer)."""

    family = "speech"
    sizes = SIZES
    recipe = OptimizerRecipe(optimizer="adamw", schedule="cosine", final_learning_rate_fraction=0.05,
                             no_weight_decay=())
    defaults_note = ("The defaults are tuned for one-second keyword clips on a CPU (make demo: 1.00 accuracy on "
                     "unseen synthetic voices in about 30 s); --task ctc uses its benchmark's settings.")

    def warmup_steps(self, settings, total_steps, steps_per_epoch):
        if settings.warmup_steps is not None:
            return int(settings.warmup_steps)
        return min(total_steps - 1, 2 * steps_per_epoch)  # two epochs

    def read_data(self, settings, run):
        from applications.speech import data as speech_data
        from applications.speech.character_vocabulary import CharacterVocabulary

        vocabulary = CharacterVocabulary(settings.characters,
                                         unknown="drop" if settings.drop_unknown_characters else "error")
        max_samples = None if settings.max_seconds is None else int(round(settings.max_seconds * 16000))
        train_set = self.load_split(settings.data, max_samples, settings.skip_bad_files, vocabulary)
        max_samples = train_set["max_samples"]
        num_clips = len(train_set["audio"])
        global_batch = run.global_batch_size(settings.batch_size)
        if num_clips < global_batch:
            raise ValueError(
                f"{num_clips} training clips are fewer than one global batch of {global_batch} "
                f"(--batch-size {settings.batch_size} x {run.num_replicas} replicas); lower --batch-size."
            )
        train = speech_data.make_dataset(train_set["audio"], train_set["sample_lengths"], train_set["targets"],
                                         global_batch, shuffle=settings.shuffle, seed=settings.seed, repeat=True)
        validation, validation_set = None, None
        if settings.validation_data:
            validation_set = self.load_split(settings.validation_data, max_samples, settings.skip_bad_files,
                                             vocabulary, train_set)
            validation = self.validation_dataset(validation_set, global_batch)
        return TaskData(
            train=train, validation=validation, steps_per_epoch=num_clips // global_batch,
            num_train_examples=num_clips,
            preprocessing={"sample_rate": speech_data.SAMPLE_RATE, "max_samples": max_samples},
            extras={"train_set": train_set, "validation_set": validation_set, "vocabulary": vocabulary,
                    "max_samples": max_samples},
        )

    def validation_dataset(self, validation_set, global_batch):
        return None

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


def _max_samples(clips):
    """The longest clip plus a quarter (so slightly longer test clips fit), in whole frames."""
    return int(math.ceil(1.25 * max(len(clip) for clip in clips) / HOP) * HOP)


class SpeechClassificationTask(SpeechTask):
    """Keyword classification from a folder of class subfolders of clips."""

    name = CLASSIFY
    defaults = dict(_COMMON_DEFAULTS)

    def load_split(self, folder, max_samples, skip_bad_files, vocabulary, train_set=None):
        import numpy as np

        from applications.skeleton.classification import check_known_labels
        from applications.speech import data as speech_data

        paths, labels, found = speech_data.list_class_folders(folder)
        class_names = found
        if train_set is not None:
            class_names = train_set["class_names"]
            check_known_labels(found, class_names, folder)
            labels = np.asarray([class_names.index(found[label]) for label in labels], "int32")
        clips, kept = speech_data.load_clips(paths, skip_bad_files)
        max_samples = max_samples or _max_samples(clips)
        audio, lengths = speech_data.pad_clips(clips, max_samples)
        return {"audio": audio, "sample_lengths": lengths, "targets": labels[kept], "max_samples": max_samples,
                "paths": [paths[i] for i in kept], "class_names": class_names}

    def validation_dataset(self, validation_set, global_batch):
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
                                spec_augment=self.spec_augment(settings), dropout_rate=settings.dropout_rate)

    def loss_and_metrics(self, settings, data):
        return "sparse_categorical_crossentropy", ["accuracy"]

    def after_training(self, model, data, settings):
        _plot(model, data, settings)
        return {}


class SpeechCTCTask(SpeechTask):
    """Character recognition with CTC from a manifest of clips and transcripts."""

    name = CTC
    defaults = dict(_COMMON_DEFAULTS, epochs=60, batch_size=8, learning_rate=3e-3, hidden_dim=96)

    def load_split(self, manifest, max_samples, skip_bad_files, vocabulary, train_set=None):
        from applications.speech import data as speech_data
        from applications.speech.character_vocabulary import OutOfVocabularyError

        pairs = speech_data.read_manifest(manifest)
        for path, text in pairs:
            try:
                vocabulary.normalize(text)
            except OutOfVocabularyError as error:
                raise OutOfVocabularyError(f"{path}: {error}") from None
        clips, kept = speech_data.load_clips([path for path, _ in pairs], skip_bad_files)
        transcripts = [vocabulary.normalize(pairs[i][1]) for i in kept]
        max_samples = max_samples or _max_samples(clips)
        audio, lengths = speech_data.pad_clips(clips, max_samples)
        return {"audio": audio, "sample_lengths": lengths, "max_samples": max_samples,
                "targets": speech_data.encode_transcripts(transcripts, vocabulary),
                "paths": [pairs[i][0] for i in kept], "transcripts": transcripts}

    def build_model(self, settings, data, init):
        from applications.speech.ctc_recognizer import CTCRecognizer

        encoder, front_end = self.build_encoder(settings, data, init)
        data.preprocessing["characters"] = settings.characters
        return CTCRecognizer(encoder, characters=settings.characters, max_samples=data.extras["max_samples"],
                             front_end=front_end, spec_augment=self.spec_augment(settings),
                             dropout_rate=settings.dropout_rate)

    def loss_and_metrics(self, settings, data):
        from applications.speech.ctc import CTCLoss

        return CTCLoss(), []

    def after_training(self, model, data, settings):
        """CER and WER on `--validation-data` (CTC validation decodes, which `fit` cannot)."""
        _plot(model, data, settings)
        validation = data.extras["validation_set"]
        if validation is None:
            return {}
        from applications.speech.error_rates import character_error_rate, word_error_rate

        hypotheses = model.transcribe({"audio": validation["audio"], "sample_lengths": validation["sample_lengths"]})
        return {"val_cer": character_error_rate(validation["transcripts"], hypotheses),
                "val_wer": word_error_rate(validation["transcripts"], hypotheses)}


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


def task_for(data, task_flag=None):
    """The task of `--task` (`classify`, `ctc`), or by the data: a manifest file -> ctc."""
    from applications.skeleton.errors import FlagError

    if task_flag is None:
        from applications.speech.data import is_manifest

        task_flag = "ctc" if is_manifest(data) else "classify"
    if task_flag not in TASK_FLAGS:
        raise FlagError(f"--task must be one of {sorted(TASK_FLAGS)}. Received: {task_flag!r}")
    return SpeechCTCTask() if task_flag == "ctc" else SpeechClassificationTask()


def init_encoder(init, dropout_rate=0.0):
    """The `SpeechEncoder` an `--init` starts from: a speech run folder or `.keras` file (either
    task), or a keras-hub `WhisperBackbone` preset (its encoder)."""
    from applications.skeleton.errors import FlagError

    if init.kind == "keras_hub":
        from applications.skeleton.init import load_keras_hub_backbone
        from applications.speech.keras_hub_conversion import from_keras_hub_whisper

        backbone = load_keras_hub_backbone(init, ("WhisperBackbone",), "speech")
        return from_keras_hub_whisper(backbone, dropout_rate=dropout_rate)
    from applications import load
    from applications.skeleton.loading import load_keras_model

    model = (load(init.value, tasks=(CLASSIFY, CTC), command="speech train --init").model
             if init.kind == "run" else load_keras_model(init.value))
    encoder = getattr(model, "encoder", None)
    if encoder is None:
        raise FlagError(f"--init {init}: the model holds no SpeechEncoder")
    return encoder
