"""Graph analysis from the catalogue: shapes, costs, receptive fields, problems.

Pure Python (no TensorFlow), fast enough to run on every keystroke in the
editor. The numbers are the lectures' arithmetic: output size
``floor((W - F + 2P) / S) + 1``, parameters ``F*F*C*D + D``, multiply-adds,
activations (values stored per image) and receptive field with its jump.
"""

from __future__ import annotations

import functools
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from cnnlab.analysis_checks import (  # noqa: F401 - part of this module's API
    CONV_TYPES,
    linear_stack_problems,
    output_classes_problems,
)
from cnnlab.blocks.base import (
    GLOBAL,
    MAX_DIM,
    BlockProblem,
    Cost,
    Shape,
    Window,
    fmt_shape,
    prod,
)
from cnnlab.blocks.registry import BLOCKS
from cnnlab.problem import Problem
from cnnlab.spec.graph import FlatGraph, FlatNode, ModelSpec
from cnnlab.spec.toposort import cycle_text, topological_order

# Keras's functional model walks the graph recursively, one Python frame per layer
# (keras.src.ops.function._build_map_helper): about 990 layers deep fail with
# RecursionError at Python's default limit. This leaves room for the caller's frames.
MAX_KERAS_DEPTH = 800
TRAINING_BYTES_PER_PARAM = 16  # float32 weights, gradients and two optimizer slots


@dataclass(frozen=True)
class LayerInfo:
    """Shape and cost of one block of the expanded graph."""

    id: str
    type: str
    output_shape: Shape
    params: int  # learned parameters (papers' and torchvision's count)
    trainable_params: int  # of those, the ones that train (not frozen)
    macs: int
    activations: int
    receptive_field: tuple[int, int]
    jump: tuple[float, float]
    inputs: tuple[str, ...]
    group: str | None = None
    state: int = 0  # batch-norm moving statistics: Keras counts params + state

    def to_json(self) -> dict:
        """The CLI's ``--json`` row."""
        rf = self.receptive_field
        return {"id": self.id, "type": self.type, "output_shape": list(self.output_shape),
                "params": self.params, "trainable_params": self.trainable_params,
                "state": self.state, "macs": self.macs, "activations": self.activations,
                "receptive_field": rf[0] if rf[0] == rf[1] else list(rf)}


@dataclass(frozen=True)
class Totals:
    """Whole-graph totals."""

    params: int = 0
    trainable_params: int = 0
    macs: int = 0
    activations: int = 0
    activation_bytes: int = 0
    state: int = 0

    def to_json(self) -> dict:
        """JSON form."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class Analysis:
    """The result: one :class:`LayerInfo` per analysable block, totals, problems."""

    layers: tuple[LayerInfo, ...]
    totals: Totals
    problems: tuple[Problem, ...]
    output: str | None = None
    _index: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings allowed)."""
        return not any(p.severity == "error" for p in self.problems)

    def errors(self) -> list[Problem]:
        """The problems of severity error."""
        return [p for p in self.problems if p.severity == "error"]

    def layer(self, node_id: str) -> LayerInfo | None:
        """The info of one block, or None when its shape could not be derived."""
        if not self._index:
            self._index.update({layer.id: layer for layer in self.layers})
        return self._index.get(node_id)

    def to_json(self) -> dict:
        """The CLI's ``summary --json`` object."""
        return {"layers": [layer.to_json() for layer in self.layers],
                "totals": self.totals.to_json()}


def analyze(model: ModelSpec | FlatGraph, batchnorm: str = "none",
            bytes_per_value: int = 4, frozen: frozenset[str] = frozenset(),
            batch_size: int = 1, memory_bytes: int | None = None) -> Analysis:
    """Analyse a model graph.

    Args:
        model: The model section (modules are expanded) or an expanded graph.
        batchnorm: The experiment-wide batch-norm switch; when not ``none`` every
            convolution carries a BatchNormalization whose parameters count here.
        bytes_per_value: 4 for float32, 2 for mixed precision.
        frozen: Block ids whose parameters do not train (a frozen transfer base).
        batch_size: Images per batch for the memory estimate; what cannot be
            trained even one image at a time is an error, the rest a warning.
        memory_bytes: The memory to check against (default: this machine's RAM).

    Returns:
        The per-block table, totals and problems. Never raises for graph
        problems: they are reported in ``problems``.

    """
    graph = model.expand() if isinstance(model, ModelSpec) else model
    memory = machine_memory() if memory_bytes is None else memory_bytes
    return _Analyzer(graph, batchnorm, bytes_per_value, frozen).run(batch_size, memory)


@functools.cache
def machine_memory() -> int | None:
    """This machine's physical memory in bytes (None where the OS does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def human_bytes(n: int) -> str:
    """``163_840_000_000`` -> ``"160 GB"``: two significant digits, decimal units."""
    unit, value = ("GB", n / 1e9) if n >= 1e9 else ("MB", n / 1e6)
    text = f"{value:.2g}" if value < 10 else f"{float(f'{value:.2g}'):,.0f}"
    return f"{text} {unit}"


class _Analyzer:
    def __init__(self, graph: FlatGraph, batchnorm: str, bytes_per_value: int,
                 frozen: frozenset[str]):
        self.graph = graph
        self.frozen = frozen
        self.batchnorm = batchnorm
        self.bpv = bytes_per_value
        self.nodes = {n.id: n for n in graph.nodes}
        self.preds: dict[str, list[str]] = defaultdict(list)
        self.succs: dict[str, list[str]] = defaultdict(list)
        ordered = sorted(enumerate(graph.edges),
                         key=lambda ie: (ie[1].port if ie[1].port is not None else 10**6, ie[0]))
        for _, e in ordered:
            self.preds[e.dst].append(e.src)
            self.succs[e.src].append(e.dst)
        self.problems: list[Problem] = []
        self.shapes: dict[str, Shape] = {}
        self.fields: dict[str, tuple[tuple[int, int], tuple[float, float]]] = {}
        self.image_extent = (1, 1)

    def run(self, batch_size: int = 1, memory: int | None = None) -> Analysis:
        order = self._topological_order()
        output = self._check_structure(order)
        self._check_keras_depth(order)
        layers = [info for nid in order if (info := self._visit(self.nodes[nid]))]
        self.problems += linear_stack_problems((self.nodes[nid], self.preds[nid])
                                               for nid in order if nid in self.shapes)
        if memory:
            self._check_memory(layers, batch_size, memory)
        return Analysis(tuple(layers), self._totals(layers), tuple(self.problems), output)

    def _keras_layers(self, node: FlatNode) -> int:
        """How many Keras layers the builder makes for a block (padding, BN, activation)."""
        extra = 0
        if node.type in CONV_TYPES:
            extra += not isinstance(node.params.get("padding", "valid"), str)
            if self.batchnorm != "none":
                act = node.params.get("activation", "linear")
                extra += 1 + (self.batchnorm == "before_activation" and act != "linear")
        return 1 + extra

    def _check_keras_depth(self, order: Sequence[str]) -> None:
        depth: dict[str, int] = {}
        for nid in order:
            before = max((depth[p] for p in self.preds[nid] if p in depth), default=0)
            depth[nid] = before + self._keras_layers(self.nodes[nid])
            if depth[nid] > MAX_KERAS_DEPTH:
                self._problem(nid, f"the longest path reaches {depth[nid]:,} Keras layers "
                              f"here; Keras builds models at most {MAX_KERAS_DEPTH:,} layers "
                              "deep (it walks the graph recursively); make the network "
                              "shallower", "too_deep")
                return

    def _check_memory(self, layers: Sequence[LayerInfo], batch: int, memory: int) -> None:
        """Refuse what cannot train even one image at a time; warn about the batch."""
        def need(layer: LayerInfo, images: int) -> int:
            return (layer.params + layer.state) * TRAINING_BYTES_PER_PARAM \
                + layer.activations * images * self.bpv

        have = f"this machine has {human_bytes(memory)}"
        for layer in layers:
            if need(layer, 1) > memory:
                self._problem(layer.id, self._memory_message(layer, need(layer, 1), have),
                              "memory")
                return
        for images, severity in ((1, "error"), (batch, "warning")):
            total = sum(need(layer, images) for layer in layers)
            if total > memory:
                biggest = max(layers, key=lambda layer: need(layer, images))
                self._problem(biggest.id, f"training the model needs ~{human_bytes(total)} "
                              f"at {images} image(s) per batch, this block the most; {have}",
                              "memory", severity)
                return

    def _memory_message(self, layer: LayerInfo, needed: int, have: str) -> str:
        weights = (layer.params + layer.state) * TRAINING_BYTES_PER_PARAM
        if weights * 2 >= needed:
            return f"{layer.params:,} parameters need ~{human_bytes(needed)}; {have}"
        return (f"its {fmt_shape(layer.output_shape)} output needs ~{human_bytes(needed)} "
                f"for one image; {have}")

    def _problem(self, node: str | None, message: str, code: str, severity="error") -> None:
        self.problems.append(Problem(node, message, severity, code))

    def _topological_order(self) -> list[str]:
        edges = ((src, dst) for src in self.nodes for dst in self.succs[src])
        order, cycle = topological_order(list(self.nodes), edges)
        if cycle:
            first = min(cycle[:-1], key=list(self.nodes).index)
            self._problem(first, f"the graph has a cycle ({cycle_text(cycle)}); remove one "
                          "of its connections", "cycle")
        return order

    def _check_structure(self, order: Sequence[str]) -> str | None:
        inputs = [n.id for n in self.graph.nodes if n.type == "Input"]
        if not inputs:
            self._problem(None, "the model has no Input block; add one", "no_input")
        elif len(inputs) > 1:
            self._problem(inputs[1], "the model may have only one Input block", "many_inputs")
        for n in self.graph.nodes:
            if n.type != "Input" and not self.preds[n.id]:
                self._problem(n.id, "nothing is connected to its input; connect a block to "
                              "it or delete it", "unconnected")
        ends = [nid for nid in order if not self.succs[nid]
                and (self.preds[nid] or self.nodes[nid].type == "Input")]
        if not ends and self.graph.nodes:
            self._problem(None, "the model has no output block", "no_output")
            return None
        if len(ends) > 1:
            self._problem(ends[0], f"the model has several ends ({', '.join(ends[:6])}); "
                          "connect them to the rest or delete the extras", "many_outputs")
        return ends[-1] if ends else None

    def _visit(self, node: FlatNode) -> LayerInfo | None:
        block = BLOCKS[node.type]
        preds = self.preds[node.id]
        if node.type != "Input" and not preds:
            return None
        if not block.min_inputs <= len(preds) <= block.max_inputs:
            self._arity_problem(node, block, len(preds))
            return None
        if any(p not in self.shapes for p in preds):
            return None  # an upstream block already has a problem
        ins = [self.shapes[p] for p in preds]
        try:
            out = block.output_shape(node.params, ins)
            cost = block.cost(node.params, ins, out)
        except BlockProblem as exc:
            self._problem(node.id, str(exc), "shape")
            return None
        if any(size > MAX_DIM for size in out):
            self._problem(node.id, f"its output {_short_shape(out)} is too large: TensorFlow "
                          f"allows at most {MAX_DIM:,} along an axis", "too_large")
            return None
        if node.type == "Input":
            self.image_extent = (out[0], out[1]) if len(out) == 3 else (1, 1)
        cost = self._with_batchnorm(node, out, cost)
        self._warn_dense_on_image(node, ins)
        self.shapes[node.id] = out
        rf, jump = self._field(node, block.window(node.params), preds)
        self.fields[node.id] = (rf, jump)
        trainable = 0 if node.id in self.frozen else cost.trainable
        return LayerInfo(node.id, node.type, out, cost.trainable + cost.non_trainable,
                         trainable, cost.macs, prod(out), rf, jump, tuple(preds),
                         node.group, cost.state)

    def _arity_problem(self, node: FlatNode, block, count: int) -> None:
        if block.max_inputs == 0:
            msg = "an Input block cannot have incoming connections"
        elif block.max_inputs == 1:
            msg = (f"{node.type} takes one input but {count} are connected; merge them with "
                   "Add or Concatenate first")
        else:
            msg = f"{node.type} needs at least {block.min_inputs} inputs (has {count})"
        self._problem(node.id, msg, "arity")

    def _with_batchnorm(self, node: FlatNode, out: Shape, cost: Cost) -> Cost:
        if self.batchnorm == "none" or node.type not in CONV_TYPES:
            return cost
        c = out[-1]
        return Cost(cost.trainable + 2 * c, cost.non_trainable, cost.macs, cost.state + 2 * c)

    def _warn_dense_on_image(self, node: FlatNode, ins: Sequence[Shape]) -> None:
        if node.type in ("Dense", "Output", "Maxout") and len(ins[0]) == 3:
            self._problem(node.id, f"it is applied to every position of the "
                          f"{fmt_shape(ins[0])} input separately; add Flatten or "
                          "GlobalAveragePooling2D before it to classify the whole image",
                          "dense_on_image", "warning")

    def _field(self, node: FlatNode, window, preds: Sequence[str]):
        if not preds:
            return (1, 1), (1.0, 1.0)
        rf = tuple(max(self.fields[p][0][i] for p in preds) for i in range(2))
        jump = tuple(max(self.fields[p][1][i] for p in preds) for i in range(2))
        if window == GLOBAL:
            return self.image_extent, jump
        assert isinstance(window, Window)
        if window.upsample:
            new_jump = tuple(jump[i] / window.stride[i] for i in range(2))
            return tuple(int(rf[i] + (window.kernel[i] - 1) * new_jump[i]) for i in range(2)), \
                new_jump
        new_rf = tuple(int(rf[i] + (window.kernel[i] - 1) * jump[i]) for i in range(2))
        return new_rf, tuple(jump[i] * window.stride[i] for i in range(2))

    def _totals(self, layers: Sequence[LayerInfo]) -> Totals:
        acts = sum(layer.activations for layer in layers)
        return Totals(sum(la.params for la in layers), sum(la.trainable_params for la in layers),
                      sum(la.macs for la in layers), acts, acts * self.bpv,
                      sum(la.state for la in layers))


def _short_shape(shape: Shape) -> str:
    text = fmt_shape(shape)
    return text if len(text) <= 60 else text[:57] + "..."


def analyze_experiment(exp) -> Analysis:
    """Analyse an experiment's model with its recipe: inserted batch-norm, frozen base.

    Blocks of a transfer base (ids starting with the transfer prefix) count as
    frozen for ``feature_extractor`` and, at the start, ``fine_tune``; blocks
    with a learning-rate multiplier of 0 are frozen too.
    """
    transfer = exp.training.transfer
    ids = [n.id for n in exp.model.expand().nodes]
    frozen = {i for i, m in transfer.layer_multipliers.items() if m == 0}
    if transfer.strategy in ("feature_extractor", "fine_tune"):
        frozen |= {i for i in ids if i.startswith(transfer.prefix)}
    bpv = 2 if exp.training.device.mixed_precision != "none" else 4
    return analyze(exp.model, exp.training.regularization.batchnorm, bpv, frozenset(frozen),
                   batch_size=exp.training.batch_size)
