"""`from_keras_hub_t5`: import a keras-hub `T5Backbone` into a keras-attn encoder-decoder.

With internet access, a user starts from a preset:

    import keras_hub
    hub = keras_hub.models.T5Backbone.from_preset("t5_small_multi")  # or "t5_1.1_small"
    model = from_keras_hub_t5(hub)
    outputs = model({"encoder_token_ids": ..., "encoder_padding_mask": ...,
                     "decoder_token_ids": ..., "decoder_padding_mask": ...})

The model is built by `applications/text/translation/t5.py`, the family's one T5 builder
(its module doc says how T5 maps onto keras-attn layers), with the backbone's
configuration; this module copies the weights.

The language-model head (the tied or separate reverse embedding of
`T5Seq2SeqLM`) is not part of the backbone and is not imported.
"""

import keras
import numpy as np

from applications.text.translation.t5 import t5_encoder_decoder, t5_stacks

INPUTS = ("encoder_token_ids", "encoder_padding_mask", "decoder_token_ids", "decoder_padding_mask")


def _activation_name(activation):
    """keras-hub's activation function -> a name keras-attn's blocks accept."""
    if getattr(activation, "__name__", None) == "gelu_approximate":  # keras_hub>gelu_approximate
        return "gelu_approximate"
    name = keras.activations.serialize(activation)
    if not isinstance(name, str):
        raise ValueError(f"Only Keras' built-in activations and gelu_approximate import. Received: activation={name}")
    return name


def _build(hub, name):
    """Our functional model with keras-hub's inputs and outputs (random weights)."""
    dtype = hub.dtype_policy.name
    inputs = {key: keras.Input(shape=(None,), dtype="int32", name=key) for key in INPUTS}
    embedding = keras.layers.Embedding(hub.vocabulary_size, hub.hidden_dim, name="token_embedding", dtype=dtype)
    encoder, decoder = t5_stacks(
        hub.num_layers, hub.num_heads, hub.intermediate_dim, dropout_rate=hub.dropout,
        activation=_activation_name(hub.activation), gated=hub.use_gated_activation,
        key_dim=hub.key_value_dim or hub.hidden_dim // hub.num_heads, layer_norm_epsilon=hub.layer_norm_epsilon,
        dtype=dtype,
    )
    encoded, decoded = t5_encoder_decoder(
        embedding, embedding, encoder, decoder, inputs["encoder_token_ids"], inputs["decoder_token_ids"],
        dropout_rate=hub.dropout, encoder_padding_mask=inputs["encoder_padding_mask"],
        decoder_padding_mask=inputs["decoder_padding_mask"], dtype=dtype,
    )
    outputs = {"encoder_sequence_output": encoded, "decoder_sequence_output": decoded}
    return keras.Model(inputs, outputs, name=name)


def _assign(variable, value):
    variable.assign(np.reshape(np.asarray(value), variable.shape))


def _copy_attention(ours, theirs):
    """keras-hub's (hidden, heads * head_dim) Dense kernels -> our (hidden, heads, head_dim) ones."""
    for mine, hub_layer in (
        (ours.query_dense, theirs.query_projector),
        (ours.key_dense, theirs.key_projector),
        (ours.value_dense, theirs.value_projector),
        (ours.output_dense, theirs.output_projector),
    ):
        _assign(mine.kernel, hub_layer.kernel)  # same row-major head split as keras-hub's reshape


def _copy_layer(block, layer):
    """One keras-hub `T5TransformerLayer` into our block."""
    _copy_attention(block.self_attention_layer, layer.self_attention)
    _assign(block.self_attention_norm.scale, layer.self_attention_layer_norm.weight)
    if layer.is_decoder:
        _copy_attention(block.cross_attention_layer, layer.cross_attention)
        _assign(block.cross_attention_norm.scale, layer.cross_attention_layer_norm.weight)
    _assign(block.feed_forward.intermediate_dense.kernel, layer.input_projector.kernel)
    if layer.use_gated_activation:
        _assign(block.feed_forward.gate_dense.kernel, layer.gate_projector.kernel)
    _assign(block.feed_forward.output_dense.kernel, layer.output_projector.kernel)
    _assign(block.feed_forward_norm.scale, layer.layer_norm.weight)


def _copy_stack(stack, layers, output_norm):
    _assign(stack.position_bias.embeddings, layers[0].self_attention.relative_attention_bias)  # first layer's
    for block, layer in zip(stack.blocks, layers):
        _copy_layer(block, layer)
    _assign(stack.output_norm.scale, output_norm.weight)


def from_keras_hub_t5(t5_backbone, name=None):
    """Convert a keras-hub `T5Backbone` into a keras-attn encoder-decoder with the same weights.

    Args:
        t5_backbone: a `keras_hub.models.T5Backbone` (T5 or T5 v1.1).
        name: the new model's name; defaults to the backbone's name.

    Returns:
        A functional `keras.Model` of keras-attn layers (`token_embedding`, a
        `TransformerEncoder` `"encoder"` and a `TransformerDecoder`
        `"decoder"`, each owning a `RelativePositionBias`) with keras-hub's
        input dict (`encoder_token_ids`, `encoder_padding_mask`,
        `decoder_token_ids`, `decoder_padding_mask`; int32, `(batch, length)`)
        and output dict (`encoder_sequence_output`, `decoder_sequence_output`).
        For cached decoding use `model.get_layer("decoder")`'s caches.

    Raises:
        ValueError: for an activation that is neither a Keras built-in nor
            keras-hub's `gelu_approximate`.

    Example:

    >>> import keras_hub, numpy as np
    >>> hub = keras_hub.models.T5Backbone(vocabulary_size=20, num_layers=1, num_heads=2,
    ...                                   hidden_dim=8, intermediate_dim=16, dropout=0.0)
    >>> ours = from_keras_hub_t5(hub)
    >>> ids, mask = np.array([[3, 4, 5, 0]]), np.array([[1, 1, 1, 0]])
    >>> inputs = {"encoder_token_ids": ids, "encoder_padding_mask": mask,
    ...           "decoder_token_ids": ids, "decoder_padding_mask": mask}
    >>> want, got = hub(inputs), ours(inputs)
    >>> all(bool(np.allclose(got[key], want[key], atol=1e-4)) for key in want)
    True
    """
    ours = _build(t5_backbone, name or t5_backbone.name)
    _assign(ours.get_layer("token_embedding").embeddings, t5_backbone.token_embedding.embeddings)
    _copy_stack(ours.get_layer("encoder"), t5_backbone.encoder_transformer_layers, t5_backbone.encoder_layer_norm)
    _copy_stack(ours.get_layer("decoder"), t5_backbone.decoder_transformer_layers, t5_backbone.decoder_layer_norm)
    return ours
