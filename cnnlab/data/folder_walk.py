"""Listing the files of an image folder: regular files only, each real file and folder once.

Rules (links are followed, both to files and to folders, inside the dataset
folder or outside it, since class folders are often links to data kept
elsewhere):

- Hidden names (starting with ``.``) are ignored.
- Every real folder is read once, recognised by ``(st_dev, st_ino)``: a link
  that leads to a folder already read, to the dataset folder or to a class
  folder (a loop such as a link to the parent, or a second link to the same
  folder) is named as skipped and not entered, so loops end, samples are
  never counted twice and no class takes another's images.
- Every real file is used once: a second name for a file already listed
  (a symbolic or hard link) is named as skipped.
- Anything that is not a regular file after following links (a FIFO, a
  device such as ``/dev/zero``, a socket), a broken link and a link that
  loops are named as skipped; they are never opened.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cnnlab.data.safe_read import file_kind, stat_reason


@dataclass
class FolderWalk:
    """Shared state of one walk over a dataset folder (all its class folders).

    Attributes:
        bad: ``(path, reason)`` of every entry that is skipped.

    """

    bad: list[tuple[str, str]] = field(default_factory=list)
    _dirs: dict[tuple[int, int], str] = field(default_factory=dict)
    _files: dict[tuple[int, int], str] = field(default_factory=dict)

    def reserve(self, *folders: Path) -> None:
        """Mark the dataset folder and its class folders as read by their own names.

        A link inside one class to the dataset folder or to another class is
        then refused instead of taking that class's images.
        """
        for folder in folders:
            try:
                info = os.stat(folder)
            except OSError:
                continue
            self._dirs.setdefault((info.st_dev, info.st_ino), str(folder))

    def class_files(self, class_dir: Path) -> list[Path]:
        """Return the regular files under ``class_dir`` in sorted, depth-first order."""
        files: list[Path] = []
        stack = [class_dir]
        while stack:
            folder = stack.pop()
            if not self._enter(folder):
                continue
            sub_dirs: list[Path] = []
            for path in self._entries(folder):
                self._classify(path, files, sub_dirs)
            stack.extend(reversed(sub_dirs))
        return files

    def _enter(self, folder: Path) -> bool:
        """Mark ``folder`` as read; False (and named) if it was read before or cannot be."""
        try:
            info = os.stat(folder)
        except OSError as exc:
            self.bad.append((str(folder), stat_reason(exc)))
            return False
        key = (info.st_dev, info.st_ino)
        first = self._dirs.setdefault(key, str(folder))
        if first != str(folder):
            self.bad.append((str(folder), f"a link to the folder {first} (a loop or a "
                                          "duplicate); not followed"))
            return False
        return True

    def _entries(self, folder: Path) -> list[Path]:
        try:
            with os.scandir(folder) as it:
                names = sorted(e.name for e in it if not e.name.startswith("."))
        except OSError as exc:
            self.bad.append((str(folder), f"unreadable folder: {exc.strerror or exc}"))
            return []
        return [folder / name for name in names]

    def _classify(self, path: Path, files: list[Path], sub_dirs: list[Path]) -> None:
        try:
            info = os.stat(path)
        except OSError as exc:
            self.bad.append((str(path), stat_reason(exc)))
            return
        if stat.S_ISDIR(info.st_mode):
            sub_dirs.append(path)
        elif not stat.S_ISREG(info.st_mode):
            self.bad.append((str(path), f"not a regular file: {file_kind(info.st_mode)}"))
        else:
            key = (info.st_dev, info.st_ino)
            first = self._files.setdefault(key, str(path))
            if first == str(path):
                files.append(path)
            else:
                self.bad.append((str(path), f"the same file as {first} (a link); used once"))
