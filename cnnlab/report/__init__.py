"""The report of a run: one self-contained HTML page to read, share or print.

``cnnlab report RUN --out REPORT.html`` and the Runs view's Report… button
write it. It holds the network's summary table, the recipe, the curves, the
test results, the confusion matrix with the class names, a few attribution
maps and the environment; pictures are embedded, so it opens offline.
Importing this package is light; building a report loads the run's model
(TensorFlow).

Modules:
    writer: :func:`write_report` and :func:`build_report`, the entry points.
    contents: what the report shows, read from the run store and the saved model.
    page: the HTML page (everything escaped, no scripts, no links).
    charts: the curves, the confusion matrix and the attribution examples as PNG data.
    recipe_text: the training recipe of a spec snapshot in words.
"""

from cnnlab.report.writer import (
    REPORT_SUFFIXES,
    ReportResult,
    build_report,
    check_report_target,
    write_report,
)

__all__ = ["REPORT_SUFFIXES", "ReportResult", "build_report", "check_report_target",
           "write_report"]
