"""The experiment document: model graph, data, training recipe and UI layout."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cnnlab.spec.graph import ModelSpec
from cnnlab.spec.sections import DataSpec, TrainingSpec

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Experiment:
    """Everything a run needs; ``ui`` holds layout only and never changes what runs."""

    model: ModelSpec
    name: str = "Untitled experiment"
    description: str = ""
    data: DataSpec = field(default_factory=DataSpec)
    training: TrainingSpec = field(default_factory=TrainingSpec)
    ui: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready dict (every field, sorted on save)."""
        from cnnlab.spec.schema import section_to_dict

        return {
            "schema_version": SCHEMA_VERSION,
            "name": self.name,
            "description": self.description,
            "model": self.model.to_dict(),
            "data": section_to_dict(self.data),
            "training": section_to_dict(self.training),
            "ui": dict(self.ui),
        }

    def run_dict(self) -> dict[str, Any]:
        """The dict without the ``ui`` section: what a run depends on."""
        d = self.to_dict()
        d.pop("ui")
        return d
