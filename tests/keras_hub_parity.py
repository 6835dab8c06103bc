"""Copy keras-hub Transformer layer weights into keras_attn blocks (tests only)."""


def copy_from_keras_hub(ours, theirs):
    """Copy a keras_hub TransformerEncoder/Decoder's weights into our block."""
    ours.self_attention_layer.set_weights(theirs._self_attention_layer.get_weights())
    ours.self_attention_norm.set_weights(theirs._self_attention_layer_norm.get_weights())
    if getattr(theirs, "_cross_attention_layer", None) is not None:
        ours.cross_attention_layer.set_weights(theirs._cross_attention_layer.get_weights())
        ours.cross_attention_norm.set_weights(theirs._cross_attention_layer_norm.get_weights())
    ours.feed_forward.intermediate_dense.set_weights(theirs._feedforward_intermediate_dense.get_weights())
    ours.feed_forward.output_dense.set_weights(theirs._feedforward_output_dense.get_weights())
    ours.feed_forward_norm.set_weights(theirs._feedforward_layer_norm.get_weights())
