"""`from_keras_hub_gpt2`: import a keras-hub `GPT2Backbone` into our GPT model.

With internet access, a user starts from a GPT-2 preset and its tokenizer:

    import keras_hub
    hub = keras_hub.models.GPT2Backbone.from_preset("gpt2_base_en")
    model = applications.text.gpt.from_keras_hub_gpt2(hub)    # token ids -> logits
    tokenizer = keras_hub.models.GPT2Tokenizer.from_preset("gpt2_base_en")

or fine-tunes it on a corpus: `keras-attn gpt train --data corpus.txt --out runs/gpt2
--init keras_hub:gpt2_base_en` (the preset's BPE tokenizer becomes the run's).

GPT-2 is what `build_gpt_model` builds with learned positions, pre-norm blocks, GELU with
the tanh approximation, layer-norm epsilon 1e-5, biases, and the logits tied to the token
table; its position table holds `max_sequence_length` positions (1,024 for the presets).
The weights map one to one: keras-hub's `TransformerDecoder` uses Keras' attention
projections, which `keras_attn.layers.MultiHeadAttention` shares.
"""

from applications.text.gpt.model import DECODER, EMBEDDING, GPTConfig, build_gpt_model


def gpt2_config(gpt2_backbone, dropout_rate=None):
    """The `GPTConfig` of a keras-hub `GPT2Backbone`."""
    return GPTConfig(
        vocabulary_size=int(gpt2_backbone.vocabulary_size), sequence_length=int(gpt2_backbone.max_sequence_length),
        num_layers=int(gpt2_backbone.num_layers), hidden_dim=int(gpt2_backbone.hidden_dim),
        num_heads=int(gpt2_backbone.num_heads), intermediate_dim=int(gpt2_backbone.intermediate_dim),
        dropout_rate=float(gpt2_backbone.dropout if dropout_rate is None else dropout_rate), positions="learned",
        tie_weights=True, activation="gelu_approximate", layer_norm_epsilon=1e-5, use_bias=True,
    )


def from_keras_hub_gpt2(gpt2_backbone, dropout_rate=None):
    """Our GPT model with a keras-hub `GPT2Backbone`'s weights.

    Args:
        gpt2_backbone: a built `keras_hub.models.GPT2Backbone`.
        dropout_rate: the new model's dropout; default the backbone's.

    Returns:
        The functional model of `build_gpt_model`: `token_ids (B, T) -> logits (B, T, V)`,
        equal to keras-hub's sequence output times its token table.

    Example:

    >>> import keras_hub, numpy as np
    >>> hub = keras_hub.models.GPT2Backbone(vocabulary_size=30, num_layers=1, num_heads=2, hidden_dim=8,
    ...                                     intermediate_dim=16, max_sequence_length=12)
    >>> ids = np.array([[4, 7, 1, 9]])
    >>> theirs = hub.token_embedding(hub({"token_ids": ids, "padding_mask": np.ones_like(ids)}), reverse=True)
    >>> bool(np.allclose(from_keras_hub_gpt2(hub)(ids), theirs, atol=1e-5))
    True
    """
    model = build_gpt_model(gpt2_config(gpt2_backbone, dropout_rate))
    embedding, decoder = model.get_layer(EMBEDDING), model.get_layer(DECODER)
    embedding.token_embedding.embeddings.assign(gpt2_backbone.token_embedding.embeddings)
    embedding.position_embedding.position_embeddings.assign(
        gpt2_backbone.position_embedding.position_embeddings)
    for theirs, block in zip(gpt2_backbone.transformer_layers, decoder.blocks):
        block.self_attention_norm.set_weights(theirs._self_attention_layer_norm.get_weights())
        block.self_attention_layer.set_weights(theirs._self_attention_layer.get_weights())
        block.feed_forward_norm.set_weights(theirs._feedforward_layer_norm.get_weights())
        block.feed_forward.intermediate_dense.set_weights(theirs._feedforward_intermediate_dense.get_weights())
        block.feed_forward.output_dense.set_weights(theirs._feedforward_output_dense.get_weights())
    decoder.output_norm.set_weights(gpt2_backbone.get_layer("layer_norm").get_weights())
    return model
