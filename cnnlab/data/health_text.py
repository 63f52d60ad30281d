"""The health report as short text sections for the terminal: counts first, then the files."""

from __future__ import annotations

from cnnlab.data.arrays import SPLITS

MAX_GROUPS = 10
MAX_FILES = 6
MAX_BAD = 20


def health_text(report) -> str:
    """Describe a :class:`~cnnlab.data.health.HealthReport` in a few short sections."""
    where = "" if report.where == report.source else f" {report.where}"
    lines = [f"Dataset health: {report.source}{where} ({report.images:,} images, "
             f"{report.seconds:.1f} s, {report.rate:,.0f} images/s)"]
    lines += _classes(report)
    lines.append("Splits: " + ", ".join(f"{s} {report.splits[s]:,}" for s in SPLITS))
    lines += _sizes(report)
    if report.excluded or report.relabelled:
        lines.append(f"Revisions: excluded {report.excluded}, relabelled {report.relabelled} "
                     "(data.exclude, data.relabel)")
    if report.unknown_revisions:
        shown = ", ".join(report.unknown_revisions[:MAX_FILES])
        more = len(report.unknown_revisions) - MAX_FILES
        lines.append(f"  warning: the revision names {len(report.unknown_revisions)} id(s) that "
                     f"are no usable sample: {shown}" + (f" ... and {more} more" if more > 0
                                                          else ""))
    for kind, title in (("exact", "Exact duplicates"), ("near", "Near duplicates")):
        lines += _groups([g for g in report.duplicates if g.kind == kind], title)
    lines += _bad(report)
    return "\n".join(lines)


def _classes(report) -> list[str]:
    shown = ", ".join(f"{name} {report.classes[name]:,}" for name in report.class_names)
    lines = [f"Classes ({len(report.class_names)}): {shown}"]
    if report.imbalance:
        lines.append(f"  warning: {report.imbalance}")
    if report.empty_classes:
        lines.append(f"  warning: no usable image in {', '.join(report.empty_classes)}")
    return lines


def _sizes(report) -> list[str]:
    sizes = sorted(report.sizes.items(), key=lambda kv: -kv[1])
    text = ", ".join(f"{h}x{w}: {n:,}" for (h, w), n in sizes[:5])
    if len(sizes) > 5:
        text += f" ... and {len(sizes) - 5} more sizes"
    channels = ", ".join(f"{c}: {n:,}" for c, n in sorted(report.channels.items()))
    return [f"Sizes (height x width): {text or 'none'}; channels: {channels or 'none'}"]


def _groups(groups: list, title: str) -> list[str]:
    files = sum(len(g.files) for g in groups)
    conflicts = sum(g.conflicting for g in groups)
    leaks = sum(g.leaking for g in groups)
    lines = [f"{title}: {len(groups)} group(s), {files} files ({conflicts} with conflicting "
             f"labels, {leaks} across splits)"]
    for group in groups[:MAX_GROUPS]:
        tags = []
        if group.conflicting:
            tags.append("conflicting labels " + "/".join(group.classes))
        if group.leaking:
            tags.append("leak " + "/".join(group.splits))
        tag = f"[{'; '.join(tags)}] " if tags else ""
        names = ", ".join(group.files[:MAX_FILES])
        if len(group.files) > MAX_FILES:
            names += f" ... and {len(group.files) - MAX_FILES} more"
        lines.append(f"  {tag}{names}")
    if len(groups) > MAX_GROUPS:
        lines.append(f"  ... and {len(groups) - MAX_GROUPS} more groups (--json lists all)")
    return lines


def _bad(report) -> list[str]:
    if not report.bad_files:
        return ["Bad files: none"]
    lines = [f"Bad files: {len(report.bad_files)}"]
    lines += [f"  {name}: {why}" for name, why in report.bad_files[:MAX_BAD]]
    if len(report.bad_files) > MAX_BAD:
        lines.append(f"  ... and {len(report.bad_files) - MAX_BAD} more (--json lists all)")
    return lines
