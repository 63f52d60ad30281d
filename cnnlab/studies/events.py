"""A study's progress events: small frozen dataclasses of plain values, sent through ``sink``.

:func:`cnnlab.studies.engine.run_study` sends :class:`TrialStarted` when a
trial's run begins, :class:`TrialEpoch` after each of its epochs (the value
the pruner saw) and :class:`TrialEnded` when it ends. With several worker
processes the events come from the storage (polled), so ``TrialStarted`` and
``TrialEpoch`` are left out and ``TrialEnded`` arrives within about a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TrialStarted:
    """A trial's run begins (``resumed``: it continues an interrupted trial's run)."""

    number: int
    params: dict = field(default_factory=dict)
    run_id: str = ""
    resumed: bool = False


@dataclass(frozen=True)
class TrialEpoch:
    """One epoch of a trial ended; ``value`` is its objective metric (None when unmeasured)."""

    number: int
    epoch: int  # 0-based
    epochs: int
    value: float | None = None


@dataclass(frozen=True)
class TrialEnded:
    """A trial ended: ``state`` is ``COMPLETE``, ``PRUNED``, ``FAIL`` or ``INTERRUPTED``."""

    number: int
    state: str
    value: float | None = None
    run_id: str = ""
    params: dict = field(default_factory=dict)
    seconds: float = 0.0
    message: str = ""
    finished: int = 0  # the study's finished (complete + pruned) trials after this one
    budget: int = 0


StudyEvent = TrialStarted | TrialEpoch | TrialEnded
