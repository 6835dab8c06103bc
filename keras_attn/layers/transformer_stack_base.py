"""What `TransformerEncoder` and `TransformerDecoder` share: block arguments,
blocks, final norm, the shared position bias, config."""

import inspect

import keras
from keras import ops

from keras_attn.layers.transformer_block_base import TransformerBlockBase
from keras_attn.layers.transformer_block_base import block_argument_names
from keras_attn.layers.transformer_block_base import build_norm

# Arguments every block of a stack receives (stochastic depth: scaled per block),
# read from TransformerBlockBase.__init__, their one definition.
BLOCK_ARGUMENTS = block_argument_names()
_BLOCK_SIGNATURE = inspect.signature(TransformerBlockBase.__init__)


def _bind_block_arguments(args, kwargs):
    """Positional and keyword block arguments -> every block argument, defaults filled in."""
    bound = _BLOCK_SIGNATURE.bind(None, *args, **kwargs)  # TypeError for a missing or doubled argument
    bound.apply_defaults()
    return {name: bound.arguments[name] for name in BLOCK_ARGUMENTS}


class TransformerStackBase(keras.layers.Layer):
    """`num_layers` blocks of `block_class`; pre-norm stacks end with a norm.

    Args:
        num_layers: number of blocks.
        num_heads, intermediate_dim, dropout_rate, activation, norm_first,
        layer_norm_epsilon, attention_dropout_rate, key_dim,
        num_key_value_heads, chunk_size, kernel_initializer, norm, use_bias,
        gated, rotary_max_wavelength, attention_scale: the block arguments,
            positional (in this order) or by name, passed to every block
            (see `TransformerBlockBase` in
            `keras_attn/layers/transformer_block_base.py`).
        stochastic_depth_rate: the last block's drop-path rate; it grows
            linearly from 0 at the first block (Huang et al. 2016).
        final_norm: add a norm (of kind `norm`) after the last block;
            defaults to `norm_first` (ViT, Whisper, GPT-2).
        position_bias: `None` or a layer with `kernel_bias(query_start_index)`
            (e.g. `RelativePositionBias`), owned by the stack: computed once
            per call and handed to every block's self-attention (T5).

    Subclasses set `block_class` and write `call`.
    """

    block_class = None

    def __init__(self, num_layers, *block_args, final_norm=None, position_bias=None, **kwargs):
        block_kwargs = {name: kwargs.pop(name) for name in BLOCK_ARGUMENTS if name in kwargs}
        super().__init__(**kwargs)
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"`num_layers` must be a positive int. Received: num_layers={num_layers}")
        arguments = _bind_block_arguments(block_args, block_kwargs)
        if position_bias is not None and not callable(getattr(position_bias, "kernel_bias", None)):
            raise ValueError(
                "`position_bias` must be a layer with a `kernel_bias` method, e.g. "
                f"`RelativePositionBias`. Received: position_bias={position_bias!r}"
            )
        if getattr(position_bias, "num_heads", arguments["num_heads"]) != arguments["num_heads"]:
            raise ValueError(
                "`position_bias` must have one bias per head. Received: "
                f"position_bias.num_heads={position_bias.num_heads}, num_heads={arguments['num_heads']}"
            )
        self.num_layers = num_layers
        for name, value in arguments.items():
            setattr(self, name, value)
        self.final_norm = final_norm
        self.position_bias = position_bias
        self.supports_masking = True
        depth_rate = arguments["stochastic_depth_rate"]
        self.blocks = [
            self.block_class(
                **dict(arguments, stochastic_depth_rate=depth_rate * i / max(num_layers - 1, 1)),
                name=f"block_{i}",
                dtype=self.dtype_policy,
            )
            for i in range(num_layers)
        ]
        use_final_norm = self.norm_first if final_norm is None else final_norm
        self.output_norm = (
            build_norm(self.norm, self.layer_norm_epsilon, "output_norm", self.dtype_policy)
            if use_final_norm
            else None
        )

    def _build_position_bias(self):
        if self.position_bias is not None and not self.position_bias.built:
            self.position_bias.build()

    def _stack_bias(self, query_length, key_length, query_start_index=0, attention_bias=None):
        """This call's self-attention bias for every block: the position bias plus a
        call-time `attention_bias`.

        Alone, the position bias is one `BucketedBias` for all blocks: the dense
        kernel computes it once (float32), the chunked one block by block.
        """
        if self.position_bias is None:
            return attention_bias
        bias = self.position_bias.kernel_bias(query_start_index)
        if attention_bias is None:
            return bias
        bias = bias.dense(query_length, key_length)  # (1, H, Tq, Tk)
        return bias + ops.cast(attention_bias, bias.dtype)

    def compute_mask(self, sequence, mask=None):
        return mask

    def compute_output_spec(self, *args, return_attention_scores=False, **kwargs):
        if return_attention_scores:
            # (output, scores) has no one output shape: trace `call` for the structure.
            return keras.Operation.compute_output_spec(self, *args, return_attention_scores=True, **kwargs)
        return super().compute_output_spec(*args, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update({name: getattr(self, name) for name in ("num_layers", *BLOCK_ARGUMENTS, "final_norm")})
        config["position_bias"] = (
            None if self.position_bias is None else keras.saving.serialize_keras_object(self.position_bias)
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("position_bias"), dict):
            config["position_bias"] = keras.saving.deserialize_keras_object(config["position_bias"])
        return cls(**config)

