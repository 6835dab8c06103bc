"""Import a keras-hub `WhisperBackbone`: its audio encoder, or the whole encoder-decoder.

With internet access, fine-tuning Whisper's encoder on your own task is:

    backbone = keras_hub.models.WhisperBackbone.from_preset("whisper_tiny_en")
    encoder = from_keras_hub_whisper(backbone)

and transcribing with the whole of Whisper (encoder, decoder, token and position
embeddings; keras-hub itself has no `generate()` for Whisper yet):

    model = from_keras_hub_whisper(backbone, decoder=True)      # a SpeechToText
    tokenizer = keras_hub.models.WhisperTokenizer.from_preset("whisper_tiny_en")
    transcriber = Transcriber(model, WhisperTokens(tokenizer))  # prompt <|startoftranscript|>...
    transcriber.transcribe({"encoder_features": log_mels})      # (batch, 3000, 80), 30 s windows

The converted encoder gives keras-hub's `encoder_sequence_output`, and the converted
model's logits keras-hub's `decoder_sequence_output` times its token embedding matrix
(within 1e-4 in float32; the tests check both on a small random backbone, with no
download, and that cached token-by-token decoding equals the full pass).
"""

import numpy as np

from applications.speech.speech_encoder import SpeechEncoder


def from_keras_hub_whisper(whisper_backbone, decoder=False, speech_to_text_args=None, **encoder_kwargs):
    """The encoder of `whisper_backbone` as a built `SpeechEncoder`, or with `decoder=True`
    the whole model as a `SpeechToText` (`audio_input=False`: log-mel features in).

    Mapping: the two stem convolutions, the (sinusoidal, non-trainable)
    position table, each `WhisperEncoder` layer (layer norms, query/key/value/
    output projections, feed-forward) and the final layer norm. Whisper's key
    projection has no bias; ours gets a zero bias, which changes nothing (a
    key bias adds the same `q . b` to every score of a query, and softmax
    ignores it).

    The decoder (with `decoder=True`): the token embedding (also the tied
    output projection) and the learned decoder positions, each
    `WhisperDecoder` layer (self- and cross-attention projections, their
    layer norms, feed-forward) and the final decoder layer norm. The model is
    called with `{"encoder_features": (batch, frames, num_mels),
    "decoder_token_ids": (batch, length)}` and returns `(batch, length,
    vocabulary_size)` logits; Whisper's decoder padding mask is not needed
    (right padding never reaches earlier positions through the causal mask).

    Args:
        whisper_backbone: a `keras_hub.models.WhisperBackbone`.
        decoder: return the whole encoder-decoder (`SpeechToText`) instead of
            the encoder.
        speech_to_text_args: with `decoder=True`, more `SpeechToText`
            arguments: `audio_input=True` with `max_samples`, `front_end`,
            `spec_augment` for a model of 16 kHz audio (what `--init
            keras_hub:<preset>` trains), a shorter `max_target_length` (the
            first rows of Whisper's 448 decoder positions), `dropout_rate`.
        **encoder_kwargs: other `SpeechEncoder` arguments (e.g. `dropout_rate`
            for fine-tuning); the dimensions come from the backbone.

    Example:

    >>> import keras_hub
    >>> backbone = keras_hub.models.WhisperBackbone(
    ...     vocabulary_size=10, num_layers=1, num_heads=2, hidden_dim=8,
    ...     intermediate_dim=16, num_mels=4, max_encoder_sequence_length=12,
    ...     max_decoder_sequence_length=4)
    >>> encoder = from_keras_hub_whisper(backbone)
    >>> encoder.hidden_dim, encoder.max_frames
    (8, 12)
    """
    backbone = whisper_backbone
    encoder = SpeechEncoder(
        hidden_dim=backbone.hidden_dim,
        num_layers=backbone.num_layers,
        num_heads=backbone.num_heads,
        intermediate_dim=backbone.intermediate_dim,
        num_mel_bins=backbone.num_mels,
        max_frames=backbone.max_encoder_sequence_length,
        layer_norm_epsilon=1e-5,
        **encoder_kwargs,
    )
    encoder.build((None, None, backbone.num_mels))

    def copy(target, source):
        target.assign(np.asarray(source.numpy() if hasattr(source, "numpy") else source))

    def copy_layer(target_layer, source_layer):
        for target, source in zip(target_layer.weights, source_layer.weights, strict=True):
            copy(target, source)

    # Stem and positions.
    copy_layer(encoder.subsampling.conv_1, backbone.get_layer("encoder_token_embedding_conv_layer_1"))
    copy_layer(encoder.subsampling.conv_2, backbone.get_layer("encoder_token_embedding_conv_layer_2"))
    table = backbone.get_layer("encoder_position_embedding").position_embeddings
    ours = encoder.position_embedding.position_embeddings
    copy(ours, np.asarray(table)[: ours.shape[0]])

    # Blocks.
    for index, block in enumerate(encoder.transformer.blocks):
        source = backbone.get_layer(f"transformer_encoder_layer_{index}")
        _copy_attention(block.self_attention_layer, source._self_attention_layer, copy, copy_layer)
        copy_layer(block.self_attention_norm, source._self_attention_layer_norm)
        copy_layer(block.feed_forward_norm, source._feedforward_layer_norm)
        copy_layer(block.feed_forward.intermediate_dense, source._feedforward_intermediate_dense)
        copy_layer(block.feed_forward.output_dense, source._feedforward_output_dense)
    copy_layer(encoder.transformer.output_norm, backbone.get_layer("encoder_layer_norm"))
    if not decoder:
        return encoder
    return _with_decoder(backbone, encoder, copy, copy_layer, **(speech_to_text_args or {}))


def _copy_attention(ours, theirs, copy, copy_layer):
    """A Whisper attention layer (no key bias) into a keras_attn `MultiHeadAttention`."""
    copy_layer(ours.query_dense, theirs._query_dense)
    copy(ours.key_dense.kernel, theirs._key_dense.kernel)
    ours.key_dense.bias.assign(np.zeros(ours.key_dense.bias.shape, "float32"))
    copy_layer(ours.value_dense, theirs._value_dense)
    copy_layer(ours.output_dense, theirs._output_dense)


def _with_decoder(backbone, encoder, copy, copy_layer, **model_args):
    """The `SpeechToText` around `encoder` holding the backbone's decoder weights."""
    from applications.speech.speech_to_text import SpeechToText

    model_args = dict(dict(max_target_length=backbone.max_decoder_sequence_length, audio_input=False,
                           name="whisper_speech_to_text"), **model_args)
    if model_args["max_target_length"] > backbone.max_decoder_sequence_length:
        raise ValueError(
            f"`max_target_length` must be at most Whisper's {backbone.max_decoder_sequence_length} decoder positions. "
            f"Received: max_target_length={model_args['max_target_length']}"
        )
    model = SpeechToText(encoder, vocabulary_size=backbone.vocabulary_size, **model_args)
    embeddings = backbone.get_layer("decoder_token_and_position_embedding")
    copy(model.decoder_embedding.token_embedding.embeddings, embeddings.token_embedding.embeddings)
    positions = model.decoder_embedding.position_embedding.position_embeddings
    copy(positions, np.asarray(embeddings.position_embedding.position_embeddings)[: positions.shape[0]])
    for index, block in enumerate(model.decoder.blocks):
        source = backbone.get_layer(f"transformer_decoder_layer_{index}")
        _copy_attention(block.self_attention_layer, source._self_attention_layer, copy, copy_layer)
        _copy_attention(block.cross_attention_layer, source._cross_attention_layer, copy, copy_layer)
        copy_layer(block.self_attention_norm, source._self_attention_layer_norm)
        copy_layer(block.cross_attention_norm, source._cross_attention_layer_norm)
        copy_layer(block.feed_forward_norm, source._feedforward_layer_norm)
        copy_layer(block.feed_forward.intermediate_dense, source._feedforward_intermediate_dense)
        copy_layer(block.feed_forward.output_dense, source._feedforward_output_dense)
    copy_layer(model.decoder.output_norm, backbone.get_layer("decoder_layer_norm"))
    return model
