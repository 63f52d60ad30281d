"""`cnnlab report RUN --out REPORT.html`: one self-contained page of a real trained run.

The run is trained through `cnnlab train` (one epoch of a small shapes set); the
report is written through `cnnlab report` and read back with :mod:`html.parser`:
it names the run, its test accuracy and every class, embeds its pictures and
refers to nothing outside itself.
"""

import base64
import json
import shutil
from html.parser import HTMLParser

import pytest
from cli_support import run_cli, train_run

from cnnlab.cli import main
from cnnlab.report.recipe_text import recipe_rows
from cnnlab.runs.store import RunStore

HOSTILE_NAME = 'Small <script>alert("x")</script> & CNN'
SHAPES = ["circle", "square", "triangle", "star", "cross", "ring"]
PNG = b"\x89PNG\r\n\x1a\n"


class Page(HTMLParser):
    """Every tag with its attributes, the table cells and the text of a page."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.cells: list[str] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def after(self, cell: str) -> str:
        """The table cell right after the first cell that reads ``cell``."""
        return self.cells[self.cells.index(cell) + 1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One real run (1 epoch, 240 images) with a name full of HTML."""
    folder = tmp_path_factory.mktemp("report")
    spec = folder / "small.json"
    assert main(["new", str(spec)]) == 0
    data = json.loads(spec.read_text())
    data["name"] = HOSTILE_NAME
    data["data"]["shapes"]["samples"] = 240
    data["training"]["epochs"] = 1
    spec.write_text(json.dumps(data))
    ws = folder / "ws"
    run_id = train_run(spec, ws)
    return folder, ws, RunStore(ws, read_only=True).get(run_id)


@pytest.fixture(scope="module")
def page(trained):
    folder, ws, record = trained
    out = folder / "report.html"
    assert main(["report", record.id, "--out", str(out), "--workspace", str(ws)]) == 0
    text = out.read_text(encoding="utf-8")
    return text, Page(text)


def test_the_report_names_the_run_its_test_accuracy_and_every_class(trained, page):
    _, _, record = trained
    text, parsed = page
    words = "".join(parsed.text)
    assert record.id in words and HOSTILE_NAME in words  # shown as text...
    assert "<script" not in text.lower()  # ...never as markup
    assert parsed.after("test accuracy") == f"{record.test_accuracy:.4f}"
    for name in SHAPES:
        assert parsed.cells.count(name) >= 3  # per-class table, confusion rows and columns
    total = parsed.cells[parsed.cells.index("total") + 3]
    assert total == f"{record.params:,}" == "60,870"  # the summary's learned parameters
    assert "Keras's count 60,870" in words and "count_params() is 60,870 (the same)" in words


def test_the_report_is_self_contained(page):
    text, parsed = page
    assert "://" not in text and "url(" not in text and "@import" not in text
    names = {tag for tag, _ in parsed.tags}
    assert not names & {"script", "link", "iframe", "object", "embed", "a"}
    images = [attrs["src"] for tag, attrs in parsed.tags if tag == "img"]
    assert len(images) == 3  # curves, confusion matrix, attribution examples
    for src in images:
        head, data = src.split(",", 1)
        assert head == "data:image/png;base64"
        assert base64.b64decode(data)[:8] == PNG


def test_the_report_has_recipe_curves_and_environment(page):
    _, parsed = page
    words = "".join(parsed.text)
    assert parsed.after("Optimizer").startswith("adam, learning rate 0.002")
    assert parsed.after("Schedule") == "constant"
    assert parsed.after("lr") == "0.002000"  # the last epoch's rate, from the run store
    assert parsed.after("tensorflow")[0].isdigit() and parsed.after("device") == "CPU"
    assert "Grad-CAM at conv3" in words


@pytest.mark.parametrize("out, words", [("kept.html", "already exists; use --force"),
                                         ("r.json", "needs a file name ending in .html")])
def test_a_refused_target_is_one_line_and_keeps_the_file(trained, capsys, out, words):
    folder, ws, record = trained
    target = folder / out
    target.write_text("mine")
    code, printed, err = run_cli(capsys, "report", record.id, "--out", target,
                                 "--workspace", ws)
    assert code == 2 and not printed and err.count("\n") == 1 and words in err
    assert target.read_text() == "mine"
    code, _, _ = run_cli(capsys, "report", record.id, "--out", target, "--workspace", ws,
                         "--force")
    assert code == (0 if out.endswith(".html") else 2)
    assert target.read_text().startswith("<!DOCTYPE html>") == out.endswith(".html")


def test_an_unknown_run_is_one_line(trained, capsys):
    folder, ws, _ = trained
    code, _, err = run_cli(capsys, "report", "nope", "--out", folder / "n.html",
                           "--workspace", ws)
    assert code == 2 and err.strip() == f"cnnlab: error: no run 'nope' in the workspace {ws}"


def test_a_run_without_a_model_still_gets_a_report(trained, tmp_path, capsys):
    _, ws, record = trained
    copy = tmp_path / "ws"
    shutil.copytree(ws, copy)
    (copy / "runs" / record.id / "model.keras").unlink()
    out = tmp_path / "r.html"
    code, printed, err = run_cli(capsys, "report", record.id, "--out", out, "--workspace",
                                 copy)
    assert code == 0 and f"wrote {out}" in printed and "saved no model" in err
    parsed = Page(out.read_text(encoding="utf-8"))
    assert [t for t, _ in parsed.tags].count("img") == 1  # the curves only
    assert parsed.after("test accuracy") == f"{record.test_accuracy:.4f}"


def test_recipe_rows_name_what_each_part_uses():
    spec = {"training": {
        "optimizer": {"name": "sgd", "learning_rate": 0.1, "momentum": 0.9, "nesterov": True,
                      "beta_1": 0.9, "weight_decay": 0.0005},
        "schedule": {"name": "step", "boundaries": [10, 20], "gamma": 0.1, "alpha": 0.5,
                     "warmup_epochs": 2},
        "regularization": {"kernel_l2": 0.0001, "batchnorm": "after_activation"},
        "augmentation": {"layers": [{"type": "RandomFlip", "params": {"mode": "horizontal"}}],
                         "mixup": {"enabled": True, "alpha": 0.2}, "placement": "model"},
        "transfer": {"strategy": "fine_tune", "base": "vgg16", "unfreeze": 4}}}
    rows = dict(recipe_rows(spec))
    assert rows["Optimizer"] == ("sgd, learning rate 0.1 (momentum 0.9, nesterov yes, "
                                 "weight_decay 0.0005)")
    assert rows["Schedule"] == "step (boundaries [10, 20], gamma 0.1), linear warm-up over 2 " \
                               "epochs"
    assert rows["Regularization"] == ("kernel_l2 0.0001, batch-norm after activation every "
                                      "convolution")
    assert rows["Augmentation"] == ("RandomFlip (mode horizontal); MixUp (alpha 0.2); in the "
                                    "model")
    assert rows["Transfer"] == "fine_tune (base vgg16, unfreeze 4)"
