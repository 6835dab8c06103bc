"""`from_keras_hub_bert`: import a keras-hub `BertBackbone` into our `BertEncoder`.

With internet access, a user fine-tunes a BERT preset:

    keras-attn bert finetune --data train.tsv --out runs/books --init keras_hub:bert_tiny_en_uncased

or, in Python:

    import keras_hub
    hub = keras_hub.models.BertBackbone.from_preset("bert_tiny_en_uncased")
    encoder = applications.text.bert.from_keras_hub_bert(hub)

The two models compute the same function: token + position + segment embeddings, a layer norm
(epsilon 1e-12), post-norm blocks with the tanh GELU. Our encoder takes keras-hub's input dict
(`token_ids`, `segment_ids`, `padding_mask`) and returns keras-hub's `sequence_output`; the
pooler (`pooled_dense`, the `pooled_output`) belongs to our classifier, and
`keras_hub_pooler_weights` gives its weights.
"""

from applications.text.bert.bert_encoder import BertEncoder


def _copy_block(theirs, ours):
    """keras-hub `TransformerEncoder` -> our `TransformerEncoderBlock` (the same weight layout)."""
    ours.self_attention_layer.set_weights(theirs._self_attention_layer.get_weights())
    ours.self_attention_norm.set_weights(theirs._self_attention_layer_norm.get_weights())
    ours.feed_forward.intermediate_dense.set_weights(theirs._feedforward_intermediate_dense.get_weights())
    ours.feed_forward.output_dense.set_weights(theirs._feedforward_output_dense.get_weights())
    ours.feed_forward_norm.set_weights(theirs._feedforward_layer_norm.get_weights())


def from_keras_hub_bert(bert_backbone, name="encoder"):
    """Convert a keras-hub `BertBackbone` into a `BertEncoder` with the same weights.

    Args:
        bert_backbone: a built `keras_hub.models.BertBackbone`.
        name: the new encoder's name.

    Returns:
        A `BertEncoder` (post-norm, tanh GELU, epsilon 1e-12, the backbone's sizes, dropout and
        position table) whose output equals the backbone's `sequence_output` at unpadded
        positions.

    Example:

    >>> import keras_hub, numpy as np
    >>> hub = keras_hub.models.BertBackbone(vocabulary_size=30, num_layers=1, num_heads=2, hidden_dim=8,
    ...                                     intermediate_dim=16, max_sequence_length=8)
    >>> ours = from_keras_hub_bert(hub)
    >>> inputs = {"token_ids": np.array([[2, 5, 7, 3]]), "segment_ids": np.zeros((1, 4), "int32"),
    ...           "padding_mask": np.ones((1, 4), "int32")}
    >>> bool(np.allclose(ours(inputs), hub(inputs)["sequence_output"], atol=1e-5))
    True
    """
    ours = BertEncoder(
        vocabulary_size=int(bert_backbone.vocabulary_size), num_layers=int(bert_backbone.num_layers),
        hidden_dim=int(bert_backbone.hidden_dim), num_heads=int(bert_backbone.num_heads),
        intermediate_dim=int(bert_backbone.intermediate_dim),
        max_sequence_length=int(bert_backbone.max_sequence_length), num_segments=int(bert_backbone.num_segments),
        dropout_rate=float(bert_backbone.dropout), norm_first=False, activation="gelu_approximate",
        layer_norm_epsilon=1e-12, name=name,
    )
    embedding = ours.embedding
    embedding.token_embedding.set_weights(bert_backbone.get_layer("token_embedding").get_weights())
    embedding.position_embedding.set_weights(bert_backbone.get_layer("position_embedding").get_weights())
    ours.get_layer("segment_embedding").set_weights(bert_backbone.get_layer("segment_embedding").get_weights())
    ours.get_layer("embeddings_layer_norm").set_weights(bert_backbone.get_layer("embeddings_layer_norm").get_weights())
    for index, block in enumerate(ours.transformer.blocks):
        _copy_block(bert_backbone.get_layer(f"transformer_layer_{index}"), block)
    return ours


def keras_hub_pooler_weights(bert_backbone):
    """The weights of the backbone's pooler (`pooled_dense`), for `BertClassifier.pooler.dense`."""
    return bert_backbone.get_layer("pooled_dense").get_weights()
