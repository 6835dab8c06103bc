"""Speech: unseen-voice keyword accuracy and number-phrase CER after a fixed CPU time budget.

The speech is SYNTHETIC (espeak-ng, see data/README.md): these numbers say
little about real recordings.

Keywords (`data/speech/keywords`, 320 train clips of 10 words by 63 voices; 80
test clips by 14 voices never heard in training), side by side:

- ours: `applications.speech.SpeechClassifier` around a `SpeechEncoder`
  (Whisper-shaped: conv stem, sinusoidal positions, pre-norm keras_attn
  encoder), the `tiny` size (width 64, 2 layers, 4 heads, MLP 128);
- keras-hub twin: the audio encoder of `keras_hub.models.WhisperBackbone` of the
  same size (`encoder_features -> encoder_sequence_output` cut out of the
  functional backbone, decoder unused), behind the SAME front end
  (`LogMelSpectrogram`, 80 bins, in the graph), the same SpecAugment, and the
  same head (`MaskedMeanPooling` over the real steps, dropout 0.1, softmax
  Dense). Difference that cannot be removed: keras-hub's Whisper encoder takes
  no padding mask, so its self-attention also attends to the padded (silent)
  frames of short clips; ours masks them (the pooling masks them in both).
  Whisper's key projection has no bias, so the twin has 64 fewer parameters
  per layer.

Both: batch 16, the speech trainer's AdamW (peak 2e-3, weight decay 0.01) with
warm-up + cosine to 5% planned over the budget (`budget.py`), dropout 0.1,
clips padded to 1.25x the longest training clip, `speech.data.make_dataset`
(shuffled with seed 0).

Numbers (`data/speech/numbers`, 468 train clips, 60 test clips of unseen
numbers and voices): ours only, the CTC recogniser of the speech trainer's
documented command (width 96, 2 layers, 4 heads, MLP 128, batch 8, peak 3e-3),
corpus CER and WER with greedy CTC decoding. (A keras-hub twin would need the
same encoder swap as above; the brief asks for the keyword task only.)
"""

import logging
import tempfile

import keras
import numpy as np

from budget import BudgetCosineSchedule, fit_for_budget, progress_variable

LOG = logging.getLogger("keras_attn.bench.applications")

FULL = dict(width=64, layers=2, heads=4, mlp=128, batch=16, learning_rate=2e-3,
            ctc_width=96, ctc_batch=8, ctc_learning_rate=3e-3, limit=None, xla=True)
QUICK = dict(width=16, layers=1, heads=2, mlp=32, batch=16, learning_rate=2e-3,
             ctc_width=16, ctc_batch=8, ctc_learning_rate=3e-3, limit=48, xla=False)  # quick: no XLA


def _spec_augment():
    from keras_attn.layers import SpecAugment

    return SpecAugment(time_masks=2, time_mask_width=10, frequency_masks=2, frequency_mask_width=10, seed=0,
                       name="spec_augment")


def _optimizer(learning_rate, progress):
    """`applications.speech.train`'s AdamW, its warm-up + cosine planned over the budget."""
    return keras.optimizers.AdamW(BudgetCosineSchedule(learning_rate, progress, warmup_fraction=0.1, alpha=0.05),
                                  weight_decay=0.01)


def _keras_hub_keyword_model(size, num_classes, max_samples):
    """The keras-hub Whisper encoder behind our front end, SpecAugment and head."""
    import keras_hub

    from applications.speech.masked_mean_pooling import MaskedMeanPooling
    from keras_attn import masking
    from keras_attn.layers import LogMelSpectrogram

    front_end = LogMelSpectrogram(num_mel_bins=80, name="log_mel")
    frames = front_end.num_frames(max_samples)
    backbone = keras_hub.models.WhisperBackbone(
        vocabulary_size=16, num_layers=size["layers"], num_heads=size["heads"], hidden_dim=size["width"],
        intermediate_dim=size["mlp"], num_mels=80, dropout=0.1, max_encoder_sequence_length=frames + frames % 2,
        max_decoder_sequence_length=4,
    )
    encoder = keras.Model(backbone.input["encoder_features"], backbone.output["encoder_sequence_output"],
                          name="whisper_encoder")
    audio = keras.Input(shape=(max_samples,), dtype="float32", name="audio")
    sample_lengths = keras.Input(shape=(), dtype="int32", name="sample_lengths")
    features = front_end(audio, sample_lengths=sample_lengths)  # (B, F, 80)
    frame_mask = front_end.frame_padding_mask(sample_lengths, frames)  # (B, F)
    steps = encoder(_spec_augment()(features))  # (B, S, C): no padding mask in keras-hub's encoder
    step_mask = masking.downsample_padding_mask(frame_mask, 2)  # (B, S)
    pooled = MaskedMeanPooling(name="pooling")(steps, padding_mask=step_mask)
    pooled = keras.layers.Dropout(0.1, name="head_dropout")(pooled)
    probabilities = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="classifier")(pooled)
    return keras.Model({"audio": audio, "sample_lengths": sample_lengths}, probabilities,
                       name="keras_hub_whisper_keywords")


def _our_keyword_model(size, num_classes, max_samples, class_names):
    from applications.speech.classifier import SpeechClassifier
    from applications.speech.speech_encoder import SpeechEncoder
    from keras_attn.layers import LogMelSpectrogram

    front_end = LogMelSpectrogram(num_mel_bins=80, name="log_mel")
    encoder = SpeechEncoder(size["width"], size["layers"], size["heads"], size["mlp"], num_mel_bins=80,
                            max_frames=front_end.num_frames(max_samples), dropout_rate=0.1)
    return SpeechClassifier(encoder, num_classes=num_classes, max_samples=max_samples, class_names=class_names,
                            front_end=front_end, spec_augment=_spec_augment(), dropout_rate=0.1)


def load_task_data(path, task_flag, max_samples=None, class_names=None):
    """A split as the speech trainer reads it (`applications.speech.task`): padded clips,
    lengths, targets; the test split padded to the training length and classes."""
    from applications.skeleton.settings import resolve_settings
    from applications.speech.task import task_for

    task = task_for(None, task_flag)
    settings = resolve_settings(task, data=str(path), out=tempfile.mkdtemp(prefix="speech_quality_"))
    reference = None if class_names is None else {"class_names": class_names}
    return task.load_split(str(path), max_samples, settings, reference)


def _limit(data, limit):
    """`limit` clips spread evenly over the (class-sorted) training set, for quick runs."""
    if not limit:
        return data
    picked = np.linspace(0, len(data["targets"]) - 1, limit).astype(int)
    return dict(data, audio=data["audio"][picked], sample_lengths=data["sample_lengths"][picked],
                targets=data["targets"][picked])


def run_keywords(budget_seconds, size):
    from applications import datasets
    from applications.speech import data as speech_data
    root = datasets.speech_keywords_dir()
    train_set = _limit(load_task_data(root / "train", "classify"), size["limit"])
    max_samples = train_set["max_samples"]
    class_names = train_set["class_names"]
    test_set = load_task_data(root / "test", "classify", max_samples, class_names=class_names)
    steps_per_epoch = len(train_set["audio"]) // size["batch"]
    contenders = {}
    for name in ("keras_attn", "keras_hub"):
        keras.utils.set_random_seed(0)
        dataset = speech_data.make_dataset(train_set["audio"], train_set["sample_lengths"], train_set["targets"],
                                           size["batch"], shuffle=True, seed=0, repeat=True)
        if name == "keras_attn":
            model = _our_keyword_model(size, len(class_names), max_samples, class_names)
        else:
            model = _keras_hub_keyword_model(size, len(class_names), max_samples)
        progress = progress_variable()
        model.compile(optimizer=_optimizer(size["learning_rate"], progress), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], jit_compile=size["xla"])
        LOG.info("speech keywords %s: %d parameters, %d clips, budget %.0f s.", name, model.count_params(),
                 len(train_set["audio"]), budget_seconds)
        trained = fit_for_budget(model, dataset, budget_seconds, steps_per_epoch=steps_per_epoch, progress=progress,
                                 out_dir=tempfile.mkdtemp(prefix=f"speech_{name}_"))
        probabilities = model.predict({"audio": test_set["audio"], "sample_lengths": test_set["sample_lengths"]},
                                      batch_size=32, verbose=0)
        accuracy = float(np.mean(np.argmax(probabilities, axis=-1) == test_set["targets"]))
        LOG.info("speech keywords %s: %s; unseen-voice accuracy %.3f", name, trained, accuracy)
        contenders[name] = dict(trained, parameters=int(model.count_params()), accuracy=accuracy)
    setting = (f"keywords: {len(train_set['audio'])} synthetic clips, 10 words; encoder width {size['width']}, "
               f"{size['layers']} layers, {size['heads']} heads, MLP {size['mlp']}, batch {size['batch']}")
    row = dict(task="speech", metric="keyword accuracy, unseen voices", ours=contenders["keras_attn"]["accuracy"],
               theirs=contenders["keras_hub"]["accuracy"], better="higher", setting=setting,
               evaluated=f"{len(test_set['audio'])} test clips, 14 unseen voices")
    return [row], contenders


def run_numbers(budget_seconds, size):
    from applications import datasets
    from applications.speech import data as speech_data
    from applications.speech.character_vocabulary import DEFAULT_CHARACTERS
    from applications.speech.ctc import CTCLoss
    from applications.speech.ctc_recognizer import CTCRecognizer
    from applications.speech.predictor import CTCPredictor
    from applications.speech.speech_encoder import SpeechEncoder
    from keras_attn.layers import LogMelSpectrogram

    train_set = load_task_data(datasets.speech_numbers_manifest("train"), "ctc")
    max_samples = train_set["max_samples"]
    steps_per_epoch = len(train_set["audio"]) // size["ctc_batch"]
    keras.utils.set_random_seed(0)
    front_end = LogMelSpectrogram(num_mel_bins=80, name="log_mel")
    encoder = SpeechEncoder(size["ctc_width"], size["layers"], size["heads"], size["mlp"], num_mel_bins=80,
                            max_frames=front_end.num_frames(max_samples), dropout_rate=0.1)
    model = CTCRecognizer(encoder, characters=DEFAULT_CHARACTERS, max_samples=max_samples, front_end=front_end,
                          spec_augment=_spec_augment(), dropout_rate=0.1)
    progress = progress_variable()
    model.compile(optimizer=_optimizer(size["ctc_learning_rate"], progress), loss=CTCLoss(), jit_compile=size["xla"])
    dataset = speech_data.make_dataset(train_set["audio"], train_set["sample_lengths"], train_set["targets"],
                                       size["ctc_batch"], shuffle=True, seed=0, repeat=True)
    LOG.info("speech numbers keras_attn: %d parameters, %d clips, budget %.0f s.", model.count_params(),
             len(train_set["audio"]), budget_seconds)
    trained = fit_for_budget(model, dataset, budget_seconds, steps_per_epoch=steps_per_epoch, progress=progress,
                             out_dir=tempfile.mkdtemp(prefix="speech_ctc_"))
    scores = CTCPredictor(model).evaluate(datasets.speech_numbers_manifest("test"))
    LOG.info("speech numbers keras_attn: %s; CER %.3f, WER %.3f", trained, scores["cer"], scores["wer"])
    contender = dict(trained, parameters=int(model.count_params()), **scores)
    setting = (f"numbers 0-999 read aloud: {len(train_set['audio'])} synthetic clips; CTC, encoder width "
               f"{size['ctc_width']}, {size['layers']} layers, batch {size['ctc_batch']}")
    evaluated = f"{scores['clips']} test clips, unseen numbers and voices, greedy CTC"
    rows = [dict(task="speech", metric=metric, ours=scores[key], theirs=None, better="lower", setting=setting,
                 evaluated=evaluated) for metric, key in (("numbers CER", "cer"), ("numbers WER", "wer"))]
    return rows, {"keras_attn": contender}


def run(budget_seconds, quick=False):
    size = QUICK if quick else FULL
    keyword_rows, keyword_contenders = run_keywords(budget_seconds, size)
    number_rows, number_contenders = run_numbers(budget_seconds, size)
    return keyword_rows + number_rows, {"keywords": keyword_contenders, "numbers": number_contenders}


if __name__ == "__main__":  # pragma: no cover - manual runs
    import sys

    logging.basicConfig(level=logging.INFO)
    print(run(float(sys.argv[1]) if len(sys.argv) > 1 else 5, quick="--quick" in sys.argv))
