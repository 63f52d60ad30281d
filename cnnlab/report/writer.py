"""Build a run's report and write it as one HTML file (atomically, never over a file unasked)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnnlab.report.contents import EXAMPLES, Facts, gather

REPORT_SUFFIXES = (".html", ".htm")


@dataclass(frozen=True)
class ReportResult:
    """A written report.

    Attributes:
        path: The HTML file.
        run_id: The run it reports.
        seconds: How long building and writing it took.
        size: Its size in bytes.
        notes: What it could not show, one sentence each.
    """

    path: Path
    run_id: str
    seconds: float
    size: int
    notes: tuple[str, ...] = ()


def build_report(store: Any, run_id: str, examples: int = EXAMPLES) -> tuple[str, Facts]:
    """The report of a run as HTML text, with the facts it shows.

    Args:
        store: The :class:`~cnnlab.runs.store.RunStore` (read-only is enough).
        run_id: The run.
        examples: How many test images to explain.

    Raises:
        RunError: For an unknown run.

    """
    from cnnlab import __version__
    from cnnlab.report.page import render

    facts = gather(store, run_id, examples)
    return render(facts, f"cnnlab {__version__}"), facts


def check_report_target(out: str | Path, force: bool = False) -> Path:
    """The report's path, when writing there is allowed (see :mod:`cnnlab.outputs`).

    Raises:
        CnnlabError: Not an ``.html`` name, a folder, or an existing file without ``force``.

    """
    from cnnlab.outputs import check_output

    return check_output(out, force=force, suffixes=REPORT_SUFFIXES, what="the report")


def write_report(store: Any, run_id: str, out: str | Path, *, force: bool = False,
                 examples: int = EXAMPLES) -> ReportResult:
    """Build the report of ``run_id`` and write it to ``out``.

    The target is checked before any work and again just before the write (a
    file that appeared meanwhile is not replaced without ``force``); the file
    is written atomically (temp file + rename).

    Raises:
        CnnlabError: For a refused target or an unknown run.

    """
    from cnnlab.atomic import atomic_write_text

    start = time.perf_counter()
    path = check_report_target(out, force)
    text, facts = build_report(store, run_id, examples)
    check_report_target(path, force)
    atomic_write_text(path, text)
    return ReportResult(path, facts.record.id, time.perf_counter() - start,
                        path.stat().st_size, tuple(facts.notes))
