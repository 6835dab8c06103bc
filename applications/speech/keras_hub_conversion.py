"""Import the audio encoder of a keras-hub `WhisperBackbone` into a `SpeechEncoder`.

With internet access, fine-tuning Whisper's encoder on your own task is:

    backbone = keras_hub.models.WhisperBackbone.from_preset("whisper_tiny_en")
    encoder = from_keras_hub_whisper(backbone)

The converted encoder gives keras-hub's `encoder_sequence_output` (within 1e-4
in float32; the tests check it on a small random backbone, with no download).
"""

import numpy as np

from applications.speech.speech_encoder import SpeechEncoder


def from_keras_hub_whisper(whisper_backbone, **encoder_kwargs):
    """A built `SpeechEncoder` holding the encoder weights of `whisper_backbone`.

    Mapping: the two stem convolutions, the (sinusoidal, non-trainable)
    position table, each `WhisperEncoder` layer (layer norms, query/key/value/
    output projections, feed-forward) and the final layer norm. Whisper's key
    projection has no bias; ours gets a zero bias, which changes nothing (a
    key bias adds the same `q . b` to every score of a query, and softmax
    ignores it).

    Args:
        whisper_backbone: a `keras_hub.models.WhisperBackbone`.
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
        attention, theirs = block.self_attention_layer, source._self_attention_layer
        copy_layer(attention.query_dense, theirs._query_dense)
        copy(attention.key_dense.kernel, theirs._key_dense.kernel)
        attention.key_dense.bias.assign(np.zeros(attention.key_dense.bias.shape, "float32"))
        copy_layer(attention.value_dense, theirs._value_dense)
        copy_layer(attention.output_dense, theirs._output_dense)
        copy_layer(block.self_attention_norm, source._self_attention_layer_norm)
        copy_layer(block.feed_forward_norm, source._feedforward_layer_norm)
        copy_layer(block.feed_forward.intermediate_dense, source._feedforward_intermediate_dense)
        copy_layer(block.feed_forward.output_dense, source._feedforward_output_dense)
    copy_layer(encoder.transformer.output_norm, backbone.get_layer("encoder_layer_norm"))
    return encoder
