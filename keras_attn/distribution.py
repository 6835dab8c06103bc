"""Model-parallel layouts for keras_attn models (Keras distribution API).

`layout_map(device_mesh)` returns the `keras.distribution.LayoutMap` that
`keras.distribution.ModelParallel` needs to shard a keras_attn model over the
mesh's model axis, the Megatron-LM way (Shoeybi et al. 2019):

| variable (path ends with) | shape | sharded on |
|---|---|---|
| `query`, `key`, `value` `/kernel` | `(width, heads, head_dim)` | heads |
| `query`, `key`, `value` `/bias` | `(heads, head_dim)` | heads |
| `attention_output/kernel` | `(heads, head_dim, width)` | heads |
| `intermediate_dense`, `gate_dense` `/kernel` | `(width, intermediate)` | intermediate |
| `intermediate_dense`, `gate_dense` `/bias` | `(intermediate,)` | intermediate |
| `feed_forward/output_dense/kernel` | `(intermediate, width)` | intermediate |
| `token_embedding/embeddings` | `(vocabulary, width)` | vocabulary |
| `token_embedding/reverse_embeddings` | `(width, vocabulary)` | vocabulary |
| `position_embedding/embeddings` | `(sequence, width)` | width |

Each device then computes its own heads and its slice of the feed-forward
layer; XLA adds the sums after the output projections. Everything else (layer
norms, output biases, an application's head) is replicated. The batch is split
over the mesh's other axis. The names are those of `MultiHeadAttention`,
`FeedForward` and `TokenAndPositionEmbedding` wherever they sit in a model
(so `keras.layers.MultiHeadAttention` is sharded the same way). The number of
heads, the intermediate size, the vocabulary and the width must divide by the
model axis' size.

Keras distributes variables on the JAX backend. A plain
`keras.distribution.DataParallel` needs no layout map; a mesh whose model
axis has size 1 makes this layout map data-parallel too.

Example:

>>> import keras
>>> devices = keras.distribution.list_devices()[:1]
>>> mesh = keras.distribution.DeviceMesh((1, 1), ("batch", "model"), devices)
>>> layouts = layout_map(mesh)
>>> layouts["transformer_encoder/block_0/self_attention/query/kernel"].axes
(None, 'model', None)
>>> layouts["block_0/feed_forward/output_dense/kernel"].axes
('model', None)
>>> layouts["transformer_encoder/output_norm/gamma"] is None  # replicated
True
"""

import keras

# Optional leading layer path: "" or "anything/".
_ANY = r"(?:.*/)?"


def _layouts(model):
    """`(path regex, axes)` for every sharded variable; `model` is the mesh axis name."""
    return (
        (_ANY + r"(?:query|key|value)/kernel", (None, model, None)),
        (_ANY + r"(?:query|key|value)/bias", (model, None)),
        (_ANY + r"attention_output/kernel", (model, None, None)),
        (_ANY + r"(?:intermediate_dense|gate_dense)/kernel", (None, model)),
        (_ANY + r"(?:intermediate_dense|gate_dense)/bias", (model,)),
        (_ANY + r"feed_forward/output_dense/kernel", (model, None)),
        (_ANY + r"token_embedding/embeddings", (model, None)),
        (_ANY + r"token_embedding/reverse_embeddings", (None, model)),
        (_ANY + r"position_embedding/embeddings", (None, model)),
    )


def layout_map(device_mesh, model_axis="model"):
    """The `keras.distribution.LayoutMap` that shards keras_attn models.

    Args:
        device_mesh: a `keras.distribution.DeviceMesh`.
        model_axis: the name of the mesh axis to shard the model on; the
            other axis (or axes) carry the batch.

    Returns:
        A `LayoutMap` for `keras.distribution.ModelParallel(layout_map=...,
        batch_dim_name=...)`; see the module docstring for what it shards.
    """
    if not isinstance(device_mesh, keras.distribution.DeviceMesh):
        raise ValueError(
            f"`device_mesh` must be a keras.distribution.DeviceMesh. Received: device_mesh={device_mesh!r}"
        )
    if model_axis not in device_mesh.axis_names:
        raise ValueError(
            f"`model_axis` must name an axis of the mesh {tuple(device_mesh.axis_names)}. "
            f"Received: model_axis={model_axis!r}"
        )
    layouts = keras.distribution.LayoutMap(device_mesh)
    for pattern, axes in _layouts(model_axis):
        layouts[pattern] = axes
    return layouts
