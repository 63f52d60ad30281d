"""Every skipped file and left-out class, named: terminal lines, a full listing, the stop error.

A folder source with ``bad_files: skip`` trains on the usable files only;
the files it skipped and the classes it left out travel with the loaded data
(:attr:`DataSplits.skipped_files`, :attr:`DataSplits.left_out_classes`).
:func:`skipped_lines` turns them into the lines a run prints when it starts
(the first ``limit``, then where the rest are listed), and
:func:`write_skipped_listing` writes all of them to a file (for the run
folder). With ``bad_files: stop``, :class:`BadFilesError` names the first
files and the listing it wrote to the temporary folder.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from cnnlab.atomic import atomic_write_text
from cnnlab.errors import DataError

LIMIT = 20
LISTING_NAME = "skipped_files.txt"

Pairs = list[tuple[str, str]]


def relative(path: str, root: str | None) -> str:
    """Return ``path`` relative to ``root`` (``cats/a.png``) when inside it, else as is."""
    if root:
        try:
            return Path(path).relative_to(root).as_posix()
        except ValueError:
            pass
    return path


def listing_lines(skipped: Pairs, left_out: Pairs, root: str | None) -> list[str]:
    """Return one line per skipped file (``path: reason``) and per left-out class."""
    lines = [f"{relative(p, root)}: {why}" for p, why in skipped]
    lines += [f"class {name}: left out, {why}" for name, why in left_out]
    return lines


def problem_lines(
    skipped: Pairs,
    left_out: Pairs,
    root: str | None,
    limit: int = LIMIT,
    listing: str | os.PathLike | None = None,
) -> list[str]:
    """Return the terminal lines for skipped files and left-out classes (empty if none).

    At most ``limit`` files are named; past that one line says how many more
    there are and, if ``listing`` is given, the file that lists them all.
    """
    lines: list[str] = []
    if skipped:
        where = f" of {root}" if root else ""
        lines.append(f"skipped {len(skipped)} file(s){where}:")
        lines += [f"  {relative(p, root)}: {why}" for p, why in skipped[:limit]]
        if len(skipped) > limit:
            more = f"  ... {len(skipped) - limit} more"
            lines.append(f"{more}, all listed in {listing}" if listing else more)
    if left_out:
        lines.append(f"left out {len(left_out)} class(es):")
        lines += [f"  {name}: {why}" for name, why in left_out]
    return lines


def skipped_lines(
    splits: Any, limit: int = LIMIT, listing: str | os.PathLike | None = None
) -> list[str]:
    """Return the lines naming what loading ``splits`` skipped and left out (empty if nothing).

    Args:
        splits: The :class:`~cnnlab.data.DataSplits` that ``load_data`` returned.
        limit: Files named at most; the rest are counted and pointed to ``listing``.
        listing: The file with the full list (from :func:`write_skipped_listing`).

    Returns:
        Lines without trailing newlines, ready to print.

    """
    return problem_lines(splits.skipped_files, splits.left_out_classes, splits.folder,
                         limit, listing)


def write_skipped_listing(splits: Any, path: str | os.PathLike) -> Path | None:
    """Write every skipped file and left-out class of ``splits`` to ``path`` (atomically).

    Returns:
        ``path``, or None (nothing written) when nothing was skipped.

    """
    lines = listing_lines(splits.skipped_files, splits.left_out_classes, splits.folder)
    if not lines:
        return None
    header = f"# skipped files and left-out classes of {splits.folder}\n"
    atomic_write_text(path, header + "\n".join(lines) + "\n")
    return Path(path)


class BadFilesError(DataError):
    """``bad_files: stop`` found bad files or empty classes; they are all in the attributes.

    Attributes:
        root: The dataset folder.
        skipped: ``(path, reason)`` of every bad file.
        left_out: ``(class name, reason)`` of every class without usable images.
        listing: The file listing all of them when there are more than ``LIMIT``.

    """

    def __init__(self, root: str, skipped: Pairs, left_out: Pairs):
        self.root, self.skipped, self.left_out = root, skipped, left_out
        self.listing = _temp_listing(root, skipped, left_out) if len(skipped) > LIMIT else None
        super().__init__(_stop_message(root, skipped, left_out, self.listing))


def _stop_message(root: str, skipped: Pairs, left_out: Pairs, listing: Path | None) -> str:
    parts = []
    if skipped:
        named = "; ".join(f"{relative(p, root)} ({why})" for p, why in skipped[:LIMIT])
        if listing is not None:
            named += f"; and {len(skipped) - LIMIT} more, all listed in {listing}"
        parts.append(f"{len(skipped)} bad file(s): {named}")
    if left_out:
        parts.append("class(es) without images: "
                     + ", ".join(f"{name} ({why})" for name, why in left_out))
    return f"{root}: {'; '.join(parts)} (fix them, or set bad_files to skip)"


def _temp_listing(root: str, skipped: Pairs, left_out: Pairs) -> Path:
    """Write the full list to a new file in the temporary folder; return its path."""
    fd, name = tempfile.mkstemp(prefix="cnnlab-bad-files-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(f"# bad files and classes without images of {root}\n")
        out.write("\n".join(listing_lines(skipped, left_out, root)) + "\n")
    return Path(name)
