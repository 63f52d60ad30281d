"""Merge blocks: Add (ResNet) and Concatenate (Inception)."""

from __future__ import annotations

from collections.abc import Sequence

from cnnlab.blocks.base import Block, BlockProblem, P, Shape, fmt_shape, need_image


class Add(Block):
    """Element-wise sum of equally shaped inputs."""

    type = "Add"
    group = "Merge"
    help = "Sum of its inputs (a ResNet shortcut); all inputs need the same shape"
    min_inputs = 2
    max_inputs = 64

    def output_shape(self, p: P, ins: Sequence[Shape]) -> Shape:
        first = ins[0]
        for other in ins[1:]:
            if other != first:
                hint = ""
                if len(first) == 3 and len(other) == 3 and first[:2] == other[:2]:
                    hint = (f" (a 1x1 convolution with {max(first[2], other[2])} filters on "
                            "the shortcut makes them match)")
                raise BlockProblem(f"its inputs have different shapes {fmt_shape(first)} and "
                                   f"{fmt_shape(other)}; Add needs equal shapes{hint}")
        return first

    def build(self, p: P, name: str, ctx):
        import keras

        layer = keras.layers.Add(name=name)
        return lambda xs: layer(list(xs))


class Concatenate(Block):
    """Stack inputs along the channel axis."""

    type = "Concatenate"
    group = "Merge"
    help = "Stack its inputs' channels (an Inception module); sizes HxW must match"
    min_inputs = 2
    max_inputs = 64

    def output_shape(self, p: P, ins: Sequence[Shape]) -> Shape:
        first = ins[0]
        for other in ins[1:]:
            if len(other) != len(first) or other[:-1] != first[:-1]:
                if len(first) == 3:
                    need_image(self.type, other)
                    raise BlockProblem(
                        f"its inputs must have the same height and width "
                        f"({first[0]}x{first[1]} vs {other[0]}x{other[1]}); pad or pool "
                        "them to match")
                raise BlockProblem(f"cannot stack {fmt_shape(first)} and {fmt_shape(other)}")
        return first[:-1] + (sum(s[-1] for s in ins),)

    def build(self, p: P, name: str, ctx):
        import keras

        layer = keras.layers.Concatenate(axis=-1, name=name)
        return lambda xs: layer(list(xs))


BLOCKS = (Add(), Concatenate())
