"""The user-facing error of the inspection methods."""

from __future__ import annotations

from cnnlab.errors import CnnlabError


class InspectError(CnnlabError):
    """An inspection cannot run as asked: unknown layer, wrong kind of layer, unfit image."""
