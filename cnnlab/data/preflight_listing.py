"""The image-folder pre-flight report as text and as rows of a list, for the Data panel."""

from __future__ import annotations

from pathlib import Path

MAX_BAD = 20


def _sizes(report) -> str:
    if report.size_range is None:
        return ""
    (h0, w0), (h1, w1) = report.size_range
    size = f"{h0}×{w0}" if (h0, w0) == (h1, w1) else f"{h0}×{w0} to {h1}×{w1}"
    channels = ", ".join(f"{c} channel{'s' if c > 1 else ''}: {n}"
                         for c, n in report.channel_counts.items())
    return f"Image sizes {size} (height×width); {channels}."


def preflight_text(report) -> str:
    """Describe a :class:`~cnnlab.data.PreflightReport`: classes, counts, bad files, empties."""
    if not report.class_names:
        return report.summary()
    total = sum(report.counts.values())
    lines = [f"{report.root}",
             f"{len(report.class_names)} classes, {total} usable images:"]
    width = max(len(name) for name in report.class_names)
    lines += [f"  {name:<{width}}  {report.counts.get(name, 0)}" for name in report.class_names]
    if report.bad_files:
        lines.append(f"{len(report.bad_files)} file(s) cannot be used (skipped when "
                     "data.bad_files is “skip”):")
        for path, why in report.bad_files[:MAX_BAD]:
            lines.append(f"  {_relative(path, report.root)}: {why}")
        if len(report.bad_files) > MAX_BAD:
            lines.append(f"  … and {len(report.bad_files) - MAX_BAD} more: all of them are "
                         "in the list of skipped files below")
    if report.empty_classes:
        lines.append("Classes without usable images: " + ", ".join(report.empty_classes))
    sizes = _sizes(report)
    if sizes:
        lines.append(sizes)
    if report.ok:
        lines.append("Every file is usable.")
    return "\n".join(lines)


def skipped_rows(report) -> list[tuple[str, str, str]]:
    """Return ``(shown name, reason, full path)`` for every bad file, then every empty class.

    The shown name is relative to the dataset folder (``cats/x.png``); a
    class row reads ``class fish`` with the class folder as its path.
    """
    rows = [(_relative(path, report.root), why, path) for path, why in report.bad_files]
    rows += [(f"class {name}", f"left out: {why}", str(Path(report.root) / name))
             for name, why in report.left_out_classes()]
    return rows


def split_rows(splits) -> list[tuple[str, str, str]]:
    """The rows of :func:`skipped_rows` from loaded data (``DataSplits`` of a folder source)."""
    root = splits.folder or ""
    rows = [(_relative(path, root), why, path) for path, why in splits.skipped_files]
    rows += [(f"class {name}", f"left out: {why}", str(Path(root) / name))
             for name, why in splits.left_out_classes]
    return rows


def _relative(path: str, root: str) -> str:
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return path
