"""A problem in an experiment's graph, as a sentence naming the block."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """A problem in the graph, as a sentence naming the node."""

    node: str | None
    message: str
    severity: str = "error"  # or "warning"
    code: str = ""

    def __str__(self) -> str:
        return f"{self.node}: {self.message}" if self.node else self.message
