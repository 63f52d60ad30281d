"""What a run report says, gathered from the run store and the run's saved model.

:func:`gather` reads the record, spec snapshot and metrics of a run, analyses
its network, and (when the run saved a model) loads it in safe mode with the
run's own data to evaluate it on the test split and explain a few test
images. What cannot be had (no saved model, data moved away) becomes a note
in the report, never an error: a report of a failed run is still worth
reading. Loading a model imports TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cnnlab.errors import CnnlabError

EVAL_LIMIT = 2000  # test samples evaluated for the confusion matrix (as `cnnlab inspect`)
EXAMPLES = 4  # attribution examples: the first test image of as many classes


@dataclass(frozen=True, eq=False)
class Example:
    """One explained test image.

    Attributes:
        image: The model input ``(H, W, C)``.
        heat: The attribution map ``(H, W)`` in 0..1.
        caption: ``true circle, predicted circle (0.93)``.
    """

    image: np.ndarray
    heat: np.ndarray
    caption: str


@dataclass(eq=False)
class Facts:
    """Everything a report shows of one run.

    Attributes:
        record: The run's :class:`~cnnlab.runs.records.RunRecord`.
        spec: Its spec snapshot (plain JSON data).
        metrics: Per-epoch metrics, name -> values.
        analysis: The network's :class:`~cnnlab.analysis.Analysis`, or None.
        keras_count: The saved model's ``count_params()``, or None without one.
        class_names: One name per class.
        evaluation: The :class:`~cnnlab.inspect.Evaluation` on ``split``, or None.
        split: The split evaluated (``test``, else ``val``, else ``train``).
        method: How the examples were explained (``Grad-CAM at conv3``).
        examples: A few explained images of ``split``.
        notes: What could not be shown, one sentence each.
    """

    record: Any
    spec: dict
    metrics: dict[str, list[float]]
    analysis: Any = None
    keras_count: int | None = None
    class_names: list[str] = field(default_factory=list)
    evaluation: Any = None
    split: str = ""
    method: str = ""
    examples: list[Example] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def gather(store: Any, run_id: str, examples: int = EXAMPLES,
           eval_limit: int = EVAL_LIMIT) -> Facts:
    """Read everything the report of ``run_id`` shows.

    Args:
        store: The :class:`~cnnlab.runs.store.RunStore` (read-only is enough).
        run_id: The run.
        examples: How many test images to explain.
        eval_limit: At most this many samples are evaluated.

    Raises:
        RunError: For an unknown run.

    """
    record = store.get(run_id)
    facts = Facts(record, store.spec(record.id), store.metrics(record.id))
    facts.class_names = list((record.metadata.get("data") or {}).get("classes") or [])
    facts.analysis = _analysis(facts.spec, facts.notes)
    if not record.model_path.is_file():
        facts.notes.append(f"Run {record.id} saved no model ({record.status}): the report "
                           "has no evaluation, confusion matrix or attribution maps.")
        return facts
    session = _session(store, record.id, eval_limit, facts.notes)
    if session is not None:
        _from_model(facts, session, examples)
    return facts


def _analysis(spec: dict, notes: list[str]):
    """The analysis of the spec's network, or None (with a note) when it cannot be read."""
    from cnnlab.analysis import analyze_experiment
    from cnnlab.spec import experiment_from_dict

    try:
        return analyze_experiment(experiment_from_dict(spec))
    except CnnlabError as exc:
        notes.append(f"The network summary is missing: the spec snapshot does not load "
                     f"({exc}).")
        return None


def _session(store: Any, run_id: str, count: int, notes: list[str]):
    """The run's saved model with its data (synthetic inputs noted), or None with a note."""
    from cnnlab.inspect.session import open_run

    try:
        session = open_run(store, run_id, samples=count, strict=False)
    except CnnlabError as exc:
        notes.append(f"The saved model could not be loaded ({exc}).")
        return None
    notes.extend(session.notes)
    return session


def _from_model(facts: Facts, session: Any, examples: int) -> None:
    """The Keras count, the evaluation and the explained examples of a loaded session."""
    from cnnlab.inspect import evaluate

    facts.keras_count = int(session.model.count_params())
    facts.class_names = list(session.class_names)
    if not session.has_data:
        facts.notes.append("Without the run's data there is no confusion matrix and no "
                           "attribution example.")
        return
    facts.split = session.split
    try:
        facts.evaluation = evaluate(session.model, session.samples, session.sample_labels,
                                    facts.class_names)
        facts.method, facts.examples = explain_examples(session, examples)
    except CnnlabError as exc:
        facts.notes.append(f"The evaluation stopped: {exc}")


def example_indices(labels: np.ndarray, count: int) -> list[int]:
    """The first sample of each class, in class order, up to ``count`` (then the next ones)."""
    labels = np.asarray(labels).reshape(-1)
    firsts = [int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels)]
    taken = set(firsts)
    rest = [i for i in range(len(labels)) if i not in taken]
    return (firsts + rest)[:max(count, 0)]


def explain_examples(session: Any, count: int) -> tuple[str, list[Example]]:
    """Grad-CAM (saliency for a network without a 4-D layer) of a few samples.

    Each map explains the class the model predicts for the image.

    Returns:
        The method's name and the examples.

    """
    import cnnlab.inspect as ins
    from cnnlab.inspect.evaluation import probabilities

    idx = example_indices(session.sample_labels, count)
    if not idx:
        return "", []
    model = session.model
    probs = probabilities(model.predict(session.samples[idx], verbose=0))
    try:
        layer = ins.last_conv_layer_id(model)
    except CnnlabError:
        layer = None
    out = []
    for row, i in enumerate(idx):
        image, predicted = session.samples[i], int(probs[row].argmax())
        heat = (ins.gradcam(model, image, layer, predicted) if layer else
                ins.saliency(model, image, predicted))
        name = session.class_names[predicted] if predicted < len(session.class_names) \
            else str(predicted)
        caption = (f"true {session.sample_caption(i)}, predicted {name} "
                   f"({probs[row, predicted]:.2f})")
        heat = np.asarray(heat, np.float32)
        out.append(Example(image, heat / max(float(heat.max()), 1e-12), caption))
    return (f"Grad-CAM at {layer}" if layer else "saliency"), out
