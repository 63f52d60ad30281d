"""The one rule for every file or folder a command writes.

No command replaces a file or folder it did not create unless the user asks
(``--force`` in the CLI, a confirmation in the window). The output must also
have a suffix that fits what is written, so that ``--out victim.json`` cannot
receive PNG data.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cnnlab.errors import CnnlabError


def check_output(path: str | Path, *, force: bool = False, suffixes: Sequence[str] = (),
                 what: str = "output") -> Path:
    """Return ``path`` when writing there is allowed; raise a one-line error otherwise.

    Args:
        path: The file (or folder) about to be written.
        force: The user asked to replace an existing file.
        suffixes: The allowed suffixes (lower case, with the dot); empty for any.
        what: What is written, for the message ("the PNG", "the SavedModel").

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        CnnlabError: Wrong suffix, an existing path without ``force``, or an
            existing folder where a file is expected.
    """
    path = Path(path)
    if suffixes and path.suffix.lower() not in suffixes:
        raise CnnlabError(f"{path}: {what} needs a file name ending in "
                          f"{' or '.join(suffixes)}")
    if path.is_dir() and suffixes:
        raise CnnlabError(f"{path} is a folder; give a file name for {what}")
    if path.exists() and not force:
        raise CnnlabError(f"{path} already exists; use --force to replace it")
    return path
