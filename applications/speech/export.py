"""The SavedModels of the speech tasks: a 16 kHz waveform in, the answer out.

Both take `{"audio": (batch, samples) float32, "sample_lengths": (batch,) int32}`: mono clips
at 16 kHz, zero-padded to a common length, with their true lengths. Clips are padded or cut
to the model's length inside the graph. Outputs:

- keyword classifier: `{"label": (batch,) tf.string, "probability": (batch,) float32}`;
- CTC recogniser: `{"transcript": (batch,) tf.string}` (greedy decoding: the best class per
  step, repeats merged, blanks removed, spaces collapsed as `CTCRecognizer.transcribe` does);
- transcriber (`SpeechToText`): `{"transcript": (batch,) tf.string}`: the encoder, the
  cached greedy decoder from the prompt to the end token (compiled with XLA, as
  `Transcriber.generate`) and the detokenizer, all in the graph. A SentencePiece
  transcriber's graph holds TensorFlow Text's SentencePiece ops: `import tensorflow_text`
  before loading it (a character transcriber needs only TensorFlow).

Clips longer than the model's length are cut to it here (the pieces-and-windows joining of
long recordings is the predictor's, in Python).

A process that imports neither `keras_attn` nor `applications` serves them:

    import tensorflow as tf
    model = tf.saved_model.load("RUN/saved_model")
    model.signatures["serving_default"](audio=tf.constant(clips), sample_lengths=tf.constant(lengths))
"""

import tensorflow as tf

_SIGNATURE = [tf.TensorSpec([None, None], tf.float32, name="audio"),
              tf.TensorSpec([None], tf.int32, name="sample_lengths")]


def _fit_to(audio, lengths, max_samples):
    """Pad or cut `(batch, samples)` clips to `max_samples`; lengths capped accordingly."""
    audio = audio[:, :max_samples]
    audio = tf.pad(audio, [[0, 0], [0, max_samples - tf.shape(audio)[1]]])
    return tf.ensure_shape(audio, [None, max_samples]), tf.minimum(lengths, max_samples)


class ServingClassifier(tf.Module):
    def __init__(self, model):
        super().__init__(name="speech_classifier")
        self.model = model
        names = model.class_names or [str(i) for i in range(model.num_classes)]
        self.class_names = tf.constant(list(names))

    @tf.function(input_signature=_SIGNATURE)
    def classify(self, audio, sample_lengths):
        audio, sample_lengths = _fit_to(audio, sample_lengths, self.model.max_samples)
        probabilities = tf.cast(self.model({"audio": audio, "sample_lengths": sample_lengths}, training=False),
                                tf.float32)
        best = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
        return {"label": tf.gather(self.class_names, best),
                "probability": tf.gather(probabilities, best, batch_dims=1)}


class ServingRecognizer(tf.Module):
    def __init__(self, model):
        super().__init__(name="ctc_recognizer")
        self.model = model
        self.characters = tf.constant([""] + list(model.characters))  # id 0 is the blank

    @tf.function(input_signature=_SIGNATURE)
    def transcribe(self, audio, sample_lengths):
        audio, sample_lengths = _fit_to(audio, sample_lengths, self.model.max_samples)
        log_probs = self.model({"audio": audio, "sample_lengths": sample_lengths}, training=False)
        ids = tf.argmax(log_probs, axis=-1, output_type=tf.int32)  # (B, S); padded steps are blanks
        previous = tf.pad(ids[:, :-1], [[0, 0], [1, 0]], constant_values=-1)
        keep = tf.logical_and(tf.not_equal(ids, previous), tf.not_equal(ids, 0))
        characters = tf.where(keep, tf.gather(self.characters, ids), "")
        text = tf.strings.reduce_join(characters, axis=1)
        text = tf.strings.strip(tf.strings.regex_replace(text, " +", " "))
        return {"transcript": text}


def classifier_serving_module(model):
    module = ServingClassifier(model)
    return module, {"serving_default": module.classify.get_concrete_function()}


def ctc_serving_module(model):
    module = ServingRecognizer(model)
    return module, {"serving_default": module.transcribe.get_concrete_function()}


class ServingTranscriber(tf.Module):
    def __init__(self, transcriber):
        super().__init__(name="transcriber")
        self.model = transcriber.model
        self._transcriber = transcriber
        tokenizer = transcriber.tokenizer
        self._prompt_length = len(transcriber.prompt_ids)
        self._end_id = tokenizer.end_id
        if tokenizer.kind == "characters":
            self.id_strings = tf.constant(tokenizer.id_strings())
        else:
            tokenizer.subwords.ensure_resource()  # the traced function captures it
            self.subwords = tokenizer.subwords
        self._generate = tf.function(lambda inputs: transcriber.generate_ids(inputs), jit_compile=True)

    def _detokenize(self, ids):
        """`(B, L)` generated ids after the prompt -> `(B,)` strings, up to the end token."""
        before_end = tf.cumsum(tf.cast(tf.equal(ids, self._end_id), tf.int32), axis=1) == 0
        if hasattr(self, "id_strings"):
            pieces = tf.where(before_end, tf.gather(self.id_strings, ids), "")
            text = tf.strings.reduce_join(pieces, axis=1)
            return tf.strings.strip(tf.strings.regex_replace(text, " +", " "))
        # SentencePiece: only the pieces (ids 4 .. size - 1) before the end.
        keep = before_end & (ids > 3) & (ids < self.subwords.vocabulary_size)
        text = self.subwords.detokenize(tf.ragged.boolean_mask(ids, keep))
        return tf.strings.strip(tf.strings.regex_replace(text, " +", " "))

    @tf.function(input_signature=_SIGNATURE)
    def transcribe(self, audio, sample_lengths):
        audio, sample_lengths = _fit_to(audio, sample_lengths, self.model.max_samples)
        ids = self._generate({"audio": audio, "sample_lengths": sample_lengths})  # (B, L)
        return {"transcript": self._detokenize(ids[:, self._prompt_length:])}


def transcriber_serving_module(transcriber):
    if transcriber.tokenizer.kind not in ("characters", "sentencepiece"):
        raise ValueError(f"A transcriber with a {transcriber.tokenizer.kind} tokenizer (an imported Whisper) has no "
                         "SavedModel export yet: transcribe with `applications.load(run).predict`.")
    module = ServingTranscriber(transcriber)
    return module, {"serving_default": module.transcribe.get_concrete_function()}
