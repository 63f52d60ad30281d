"""The run report as one self-contained HTML page.

Every string that came from a user, a file or a model (run and class names,
block ids, paths, versions, notes) goes through :func:`html.escape`. Images
are ``data:`` URIs, the style sheet is inline, and there are no scripts and no
links, so the page opens in a browser offline and shows the same everywhere.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from cnnlab.formatting import format_duration, shape_text
from cnnlab.report import charts
from cnnlab.report.contents import Facts
from cnnlab.report.recipe_text import recipe_rows

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2933;
max-width:70em;margin:2em auto;padding:0 1.5em;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.8em;
border-bottom:1px solid #d5dbe1;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{padding:.25em .7em;border-bottom:1px solid #e4e8ec;text-align:left;vertical-align:top}
th{background:#f3f5f8}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.total td{font-weight:600;border-top:2px solid #b8c1cc}
img{max-width:100%;height:auto}.muted{color:#6b7785}.note{color:#8a5a00}
"""


def esc(value: Any) -> str:
    """Any value as escaped HTML text."""
    return html.escape(str(value), quote=True)


def number(value: float | None, digits: int = 4) -> str:
    """``0.8750``; an unknown or NaN value as an en dash."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:.{digits}f}"


def when(ts: float | None) -> str:
    """Seconds since the epoch as local ``YYYY-MM-DD HH:MM``; unknown as ``?``."""
    if ts is None:
        return "?"
    return datetime.fromtimestamp(ts, tz=timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M")


def table(head: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = (),
          total: Sequence[Any] | None = None) -> str:
    """An HTML table; the columns in ``numeric`` align right; ``total`` is a bold last row."""
    def cells(tag: str, row: Sequence[Any]) -> str:
        return "".join(f"<{tag}{' class=n' if i in numeric else ''}>{esc(c)}</{tag}>"
                       for i, c in enumerate(row))

    body = "".join(f"<tr>{cells('td', r)}</tr>" for r in rows)
    if total is not None:
        body += f"<tr class=total>{cells('td', total)}</tr>"
    return f"<table><tr>{cells('th', head)}</tr>{body}</table>"


def image(uri: str, alt: str) -> str:
    """An embedded picture (``uri`` is a ``data:`` URI made here, never a user's string)."""
    if not uri.startswith("data:image/png;base64,"):
        raise ValueError("only embedded PNG pictures go into a report")
    return f'<img src="{uri}" alt="{esc(alt)}">'


def section(anchor: str, title: str, body: str) -> str:
    """One section with its heading."""
    return f'<section id="{anchor}"><h2>{esc(title)}</h2>{body}</section>'


def header(facts: Facts) -> str:
    """Title, status, epochs, times, label and tags of the run."""
    r = facts.record
    seconds = (r.ended_at - r.started_at) if r.ended_at and r.started_at else float("nan")
    facts_line = (f"status {r.status}{f' ({r.message})' if r.message else ''}; "
                  f"{r.epochs_done} of {r.epochs_planned or '?'} epochs; started "
                  f"{when(r.started_at or r.created_at)}, ran {format_duration(seconds)}")
    extra = [f"change: {r.label}"] if r.label else []
    extra += [f"tags: {', '.join(r.tags)}"] if r.tags else []
    description = str(facts.spec.get("description") or "")
    return (f"<h1>{esc(r.name)} <span class=muted>({esc(r.id)})</span></h1>"
            f"<p>Run report of run {esc(r.id)}: {esc(facts_line)}.</p>"
            + (f"<p>{esc(description)}</p>" if description else "")
            + (f"<p class=muted>{esc('; '.join(extra))}</p>" if extra else ""))


def network(facts: Facts) -> str:
    """The summary table: per layer its output shape, parameters, state and multiply-adds."""
    a = facts.analysis
    if a is None:
        return "<p class=note>No network summary (see the notes).</p>"
    state = a.totals.state > 0
    head = ["id", "type", "output", "parameters", *(["state"] if state else []),
            "multiply-adds"]
    rows = [[layer.id, layer.type, shape_text(layer.output_shape), f"{layer.params:,}",
             *([f"{layer.state:,}"] if state else []), f"{layer.macs:,}"]
            for layer in a.layers]
    t = a.totals
    total = ["total", "", "", f"{t.params:,}", *([f"{t.state:,}"] if state else []),
             f"{t.macs:,}"]
    numeric = range(3, len(head))
    text = (f"Learned parameters {t.params:,} (trainable {t.trainable_params:,}) + batch-norm "
            f"state {t.state:,} = Keras's count {t.params + t.state:,}.")
    if facts.keras_count is not None:
        same = "the same" if facts.keras_count == t.params + t.state else "DIFFERENT"
        text += f" The saved model's count_params() is {facts.keras_count:,} ({same})."
    return table(head, rows, numeric, total) + f"<p>{esc(text)}</p>"


def recipe(facts: Facts) -> str:
    """The recipe: data, training, optimizer, schedule, regularization, augmentation..."""
    return table(("part", "setting"), recipe_rows(facts.spec))


def curves(facts: Facts) -> str:
    """Loss, accuracy and learning-rate curves, and the last epoch's numbers."""
    fig = charts.curves_figure(facts.metrics)
    if fig is None:
        return "<p class=note>No epoch finished: there are no curves.</p>"
    names = [n for n in sorted(facts.metrics) if n != "seconds"]
    last = [[n, number(facts.metrics[n][-1], 6 if n == "lr" else 4)] for n in names]
    return (image(charts.data_uri(fig), "loss, accuracy and learning rate per epoch")
            + f"<p>After epoch {len(facts.metrics[names[0]]) if names else 0}:</p>"
            + table(("metric", "value"), last, (1,)))


def test_results(facts: Facts) -> str:
    """The test metrics the trainer measured, and the per-class figures of the evaluation."""
    r = facts.record
    rows = [(label, number(getattr(r, key))) for key, label in
            (("test_loss", "test loss"), ("test_accuracy", "test accuracy"),
             ("test_top5", "test top-5 accuracy")) if getattr(r, key) is not None]
    text = table(("metric", "value"), rows, (1,)) if rows else \
        "<p class=note>The run was not evaluated on a test split.</p>"
    ev = facts.evaluation
    if ev is None:
        return text
    per_class = [(name, number(ev.precision[i], 3), number(ev.recall[i], 3),
                  int(ev.support[i])) for i, name in enumerate(ev.class_names)]
    return (text + f"<p>Per class, on {int(ev.support.sum())} {esc(facts.split)} samples "
            f"(accuracy {number(ev.overall_accuracy)}):</p>"
            + table(("class", "precision", "recall", "samples"), per_class, (1, 2, 3)))


def confusion(facts: Facts) -> str:
    """The confusion matrix as a picture, and as a table of counts for up to 20 classes."""
    ev = facts.evaluation
    if ev is None:
        return "<p class=note>No confusion matrix (see the notes).</p>"
    heading = (f"{facts.record.name} ({facts.record.id})\n{int(ev.confusion.sum())} "
               f"{facts.split} samples, accuracy {ev.overall_accuracy:.3f}")
    fig = charts.confusion_figure(ev.confusion, ev.class_names, heading)
    body = image(charts.data_uri(fig), "confusion matrix: true class by predicted class")
    if len(ev.class_names) <= 20:
        rows = [[name, *map(int, ev.confusion[i])] for i, name in enumerate(ev.class_names)]
        body += ("<p>Rows: the true class; columns: the predicted class.</p>"
                 + table(["true \\ predicted", *ev.class_names], rows,
                         range(1, len(ev.class_names) + 1)))
    return body


def attribution(facts: Facts) -> str:
    """A few test images with the map of what the network looked at."""
    if not facts.examples:
        return "<p class=note>No attribution examples (see the notes).</p>"
    ex = facts.examples
    fig = charts.examples_figure([e.image for e in ex], [e.heat for e in ex],
                                 [e.caption for e in ex], facts.method)
    captions = "".join(f"<li>{esc(e.caption)}</li>" for e in ex)
    return (f"<p>{esc(facts.method)} of the class the network predicts, for the first "
            f"{esc(facts.split)} image of {len(ex)} classes.</p>"
            + image(charts.data_uri(fig), f"{facts.method} of {len(ex)} images")
            + f"<ul>{captions}</ul>")


def environment(facts: Facts) -> str:
    """Versions, device and machine of the run, from its metadata."""
    meta, r = facts.record.metadata, facts.record
    plan = meta.get("devices") if isinstance(meta.get("devices"), dict) else {}
    rows = [("device", meta.get("device") or r.device or "?")]
    rows += [(key.replace("_", " "), plan[key]) for key in
             ("kind", "precision", "replicas", "jit_compile", "steps_per_execution")
             if key in plan]
    rows += [("device note", note) for note in plan.get("notes") or []]
    rows += [("host", r.hostname or "?"), ("seed", r.seed if r.seed is not None else "?"),
             ("reproducible", "yes (training.deterministic)" if r.deterministic else "no")]
    versions = meta.get("versions") if isinstance(meta.get("versions"), dict) else {}
    rows += [(name, version) for name, version in versions.items()]
    sizes = (meta.get("data") or {}).get("sizes") if isinstance(meta.get("data"), dict) else None
    if isinstance(sizes, dict):
        rows.append(("data sizes", ", ".join(f"{k} {v}" for k, v in sizes.items())))
    return table(("what", "value"), rows)


def notes(facts: Facts) -> str:
    """What the report could not show, and why."""
    items = "".join(f"<li>{esc(n)}</li>" for n in facts.notes)
    return f"<ul class=note>{items}</ul>"


SECTIONS = (("network", "Network", network), ("recipe", "Recipe", recipe),
            ("curves", "Training curves", curves), ("test", "Test results", test_results),
            ("confusion", "Confusion matrix", confusion),
            ("attribution", "What the network looks at", attribution),
            ("environment", "Environment", environment))


def render(facts: Facts, written_by: str) -> str:
    """The whole page.

    Args:
        facts: What the report shows.
        written_by: ``cnnlab 0.1.0``, for the footer.

    """
    r = facts.record
    parts = [header(facts)]
    parts += [section(anchor, title, fn(facts)) for anchor, title, fn in SECTIONS]
    if facts.notes:
        parts.append(section("notes", "Notes", notes(facts)))
    stamp = datetime.now(timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M")
    parts.append(f"<footer class=muted><p>Written by {esc(written_by)} on {esc(stamp)} from "
                 f"the run folder {esc(r.run_dir)}.</p></footer>")
    return ("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
            f"<title>Run report: {esc(r.name)} ({esc(r.id)})</title>"
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")
