"""Training a speech model: `keras-attn speech train` and `run_demo` call `train`.

Reproduce the shipped keyword result (synthetic espeak-ng speech, unseen voices):

    keras-attn speech train --data data/speech/keywords/train \\
        --validation-data data/speech/keywords/test --task classify --out runs/keywords --epochs 20
    # 2-core CPU: ~30 s of training, accuracy 1.0 on the 80 clips of 14 unseen voices.

    keras-attn speech train --data data/speech/numbers/train.tsv --validation-data \\
        data/speech/numbers/test.tsv --task ctc --out runs/numbers --epochs 60 --batch-size 8 \\
        --hidden-dim 96 --learning-rate 3e-3
    # 2-core CPU: ~90 s, test CER ~0.21, WER ~0.45 (18 clips of unseen numbers and voices).
"""

import json
import logging
import math
import os
import time

import keras
import numpy as np

from applications.speech import data as speech_data
from applications.speech.character_vocabulary import DEFAULT_CHARACTERS, CharacterVocabulary
from applications.speech.classifier import SpeechClassifier
from applications.speech.ctc import CTCLoss
from applications.speech.ctc_recognizer import CTCRecognizer
from applications.speech.model_io import MODEL_FILENAME, load_speech_model
from applications.speech.sizes import speech_encoder_config
from applications.speech.speech_encoder import SpeechEncoder
from keras_attn.layers import LogMelSpectrogram, SpecAugment
from keras_attn.training import TrainingRun, apply_mixed_precision

logger = logging.getLogger(__name__)

TASKS = ("classify", "ctc")
KERAS_HUB_PREFIX = "keras_hub:"


def load_task_data(data, task, max_samples=None, skip_bad_files=False, vocabulary=None, class_names=None):
    """Read a folder (classify) or manifest (ctc) into padded arrays.

    Returns a dict with `audio`, `sample_lengths`, `targets` (class ids, or
    CTC labels padded with 0), `paths`, and `class_names` or `transcripts`.
    """
    if task == "classify":
        paths, labels, found_names = speech_data.list_class_folders(data)
        if class_names is not None:
            unknown = sorted(set(found_names) - set(class_names))
            if unknown:
                raise ValueError(f"{os.fspath(data)!r} has classes the model does not know: {unknown}")
            labels = np.asarray([class_names.index(found_names[label]) for label in labels], "int32")
        else:
            class_names = found_names
        clips, kept = speech_data.load_clips(paths, skip_bad_files)
        targets = labels[kept]
        extra = {"class_names": class_names}
    elif task == "ctc":
        pairs = speech_data.read_manifest(data)
        transcripts = [text for _, text in pairs]
        for text, (path, _) in zip(transcripts, pairs):
            try:
                vocabulary.normalize(text)
            except ValueError as error:
                raise type(error)(f"{os.fspath(path)}: {error}") from None
        clips, kept = speech_data.load_clips([path for path, _ in pairs], skip_bad_files)
        transcripts = [vocabulary.normalize(transcripts[i]) for i in kept]
        targets = speech_data.encode_transcripts(transcripts, vocabulary)
        paths = [path for path, _ in pairs]
        extra = {"transcripts": transcripts}
    else:
        raise ValueError(f"`task` must be one of {TASKS}. Received: task={task!r}")
    if max_samples is None:
        # The longest training clip plus a quarter, so slightly longer test clips fit; whole hops.
        hop = 160
        max_samples = int(math.ceil(1.25 * max(len(clip) for clip in clips) / hop) * hop)
    audio, lengths = speech_data.pad_clips(clips, max_samples)
    return {"audio": audio, "sample_lengths": lengths, "targets": targets,
            "paths": [paths[i] for i in kept], "max_samples": max_samples, **extra}


def build_encoder(init, config, max_frames, dropout_rate):
    """A new `SpeechEncoder`, or one initialised from `init` (see `train`)."""
    if not init:
        return SpeechEncoder(**{**config.encoder_kwargs(), "max_frames": max_frames}, dropout_rate=dropout_rate)
    if init.startswith(KERAS_HUB_PREFIX):
        import keras_hub

        from applications.speech.keras_hub_conversion import from_keras_hub_whisper

        backbone = keras_hub.models.WhisperBackbone.from_preset(init[len(KERAS_HUB_PREFIX):])
        return from_keras_hub_whisper(backbone, dropout_rate=dropout_rate)
    return load_speech_model(init).encoder


def train(
    data,
    out_dir,
    task=None,
    validation_data=None,
    epochs=30,
    batch_size=16,
    size="tiny",
    num_layers=None,
    hidden_dim=None,
    num_heads=None,
    intermediate_dim=None,
    init=None,
    strategy="auto",
    mixed_precision=None,
    learning_rate=2e-3,
    warmup_epochs=2,
    max_seconds=None,
    spec_augment=True,
    dropout_rate=0.1,
    characters=DEFAULT_CHARACTERS,
    drop_unknown_characters=False,
    skip_bad_files=False,
    seed=0,
    shuffle=True,
    jit_compile="auto",
    checkpoint_every_steps=100,
    plot=True,
    verbose="auto",
):
    """Train a keyword classifier (`task="classify"`, `data` a folder of class
    subfolders) or a CTC recognizer (`task="ctc"`, `data` a CSV/TSV manifest)
    through `keras_attn.training.TrainingRun`, and save it as `out_dir/model.keras`.

    `init` starts from trained weights: a speech model folder / `.keras` file
    (its encoder), or `"keras_hub:<whisper preset>"` (downloads Whisper with
    keras-hub and imports its encoder; the front end is then Whisper's
    80-bin log-mel and the dimension flags are ignored).

    Clips are padded to `max_seconds` (default: 1.25 x the longest training clip),
    batches have the global batch size `batch_size * replicas` with the last
    partial batch dropped, so every step has one static shape.

    Returns a dict with the final training `loss`, validation numbers when
    `validation_data` is given, `train_seconds`, `num_train_clips`, `out_dir`.
    """
    task = task or ("ctc" if speech_data.is_manifest(data) else "classify")
    if task not in TASKS:
        raise ValueError(f"`task` must be one of {TASKS}. Received: task={task!r}")
    apply_mixed_precision(mixed_precision)
    run = TrainingRun(out_dir, strategy=strategy, checkpoint_every_steps=checkpoint_every_steps, jit_compile=jit_compile)
    keras.utils.set_random_seed(seed)
    vocabulary = CharacterVocabulary(characters, unknown="drop" if drop_unknown_characters else "error")
    max_samples = None if max_seconds is None else int(round(max_seconds * speech_data.SAMPLE_RATE))
    train_set = load_task_data(data, task, max_samples, skip_bad_files, vocabulary)
    max_samples = train_set["max_samples"]
    num_clips = len(train_set["audio"])
    global_batch = run.global_batch_size(batch_size)
    if num_clips < global_batch:
        raise ValueError(
            f"{num_clips} training clips are fewer than one global batch of {global_batch} "
            f"(batch_size={batch_size} x {run.num_replicas} replicas); lower --batch-size."
        )
    steps_per_epoch = num_clips // global_batch
    logger.info("%d training clips padded to %.2f s, %d steps of %d per epoch.",
                num_clips, max_samples / speech_data.SAMPLE_RATE, steps_per_epoch, global_batch)

    config = speech_encoder_config(size, num_layers=num_layers, hidden_dim=hidden_dim,
                                   num_heads=num_heads, intermediate_dim=intermediate_dim)
    front_end = LogMelSpectrogram(num_mel_bins=config.num_mel_bins, name="log_mel")
    with run.scope():
        encoder = build_encoder(init, config, front_end.num_frames(max_samples), dropout_rate)
        if encoder.num_mel_bins != front_end.num_mel_bins:
            front_end = LogMelSpectrogram(num_mel_bins=encoder.num_mel_bins, name="log_mel")
        augment = SpecAugment(time_masks=2, time_mask_width=10, frequency_masks=2,
                              frequency_mask_width=10, seed=seed, name="spec_augment") if spec_augment else None
        common = dict(max_samples=max_samples, front_end=front_end, spec_augment=augment, dropout_rate=dropout_rate)
        if task == "classify":
            model = SpeechClassifier(encoder, num_classes=len(train_set["class_names"]),
                                     class_names=train_set["class_names"], **common)
            loss, metrics = "sparse_categorical_crossentropy", ["accuracy"]
        else:
            model = CTCRecognizer(encoder, characters=characters, **common)
            loss, metrics = CTCLoss(), []
        total_steps = max(1, epochs * steps_per_epoch)
        warmup = min(total_steps - 1, warmup_epochs * steps_per_epoch)
        schedule = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=0.0 if warmup else learning_rate, decay_steps=max(1, total_steps - warmup),
            warmup_target=learning_rate if warmup else None, warmup_steps=warmup, alpha=0.05,
        )
        optimizer = keras.optimizers.AdamW(schedule, weight_decay=0.01)
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics, jit_compile=run.jit_compile)

    train_ds = speech_data.make_dataset(train_set["audio"], train_set["sample_lengths"], train_set["targets"],
                                        global_batch, shuffle=shuffle, seed=seed, repeat=True)
    validation = None
    if validation_data is not None and task == "classify":
        validation = load_task_data(validation_data, task, max_samples, skip_bad_files,
                                    class_names=train_set["class_names"])
        val_ds = speech_data.make_dataset(validation["audio"], validation["sample_lengths"],
                                          validation["targets"], global_batch, drop_remainder=False)
    else:
        val_ds = None  # CTC validation decodes, which fit cannot: see `evaluate`

    start = time.time()
    history = run.fit(model, train_ds, epochs=epochs, validation_data=val_ds, steps_per_epoch=steps_per_epoch,
                      verbose=verbose)
    train_seconds = time.time() - start
    run.save_model(model, MODEL_FILENAME)

    summary = {"out_dir": run.out_dir, "task": task, "num_train_clips": num_clips,
               "train_seconds": round(train_seconds, 1)}
    if history.history.get("loss"):
        summary["loss"] = float(history.history["loss"][-1])
    if history.history.get("val_accuracy"):
        summary["val_accuracy"] = float(history.history["val_accuracy"][-1])
    if validation_data is not None and task == "ctc" and run.is_chief:
        from applications.speech.evaluate import evaluate

        summary.update({f"val_{k}": v for k, v in evaluate(model, validation_data).items() if k in ("cer", "wer")})
    if plot and run.is_chief:
        from applications.speech.plots import plot_log_mel_and_attention

        clip = train_set["audio"][0, : train_set["sample_lengths"][0]]
        plot_log_mel_and_attention(model, clip, os.path.join(run.out_dir, "attention.png"),
                                   title=os.path.basename(str(train_set["paths"][0])))
    if run.is_chief:
        with open(os.path.join(run.out_dir, "summary.json"), "w") as handle:
            json.dump(summary, handle, indent=2)
    return summary


