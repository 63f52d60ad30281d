"""`cnnlab inspect` end to end: every method writes a labelled PNG; deep dream from the CLI;
the output is checked (suffix, no overwrite without --force) before any work."""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnnlab.cli import build_parser, main  # noqa: E402
from cnnlab.cli.inspect import build_figure  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
SHAPES = ["circle", "square", "triangle", "star", "cross", "ring"]


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One real run of a small default experiment, trained through the CLI (1 epoch)."""
    folder = tmp_path_factory.mktemp("inspect_cli")
    spec = folder / "small.json"
    assert main(["new", str(spec)]) == 0
    data = json.loads(spec.read_text())
    data["data"]["shapes"]["samples"] = 240
    data["training"]["epochs"] = 1
    spec.write_text(json.dumps(data))
    ws = folder / "ws"
    assert main(["train", str(spec), "--workspace", str(ws), "--json"]) == 0
    from cnnlab.runs.store import RunStore

    (record,) = RunStore(ws).list_runs()
    return folder, ws, record


def figure_of(trained, *args):
    """The figure `cnnlab inspect RUN ARGS...` writes (same code path as the command)."""
    folder, ws, record = trained
    argv = ["inspect", record.id, *map(str, args), "--workspace", str(ws)]
    if "--out" not in args:
        argv += ["--out", str(folder / "never_written.png")]
    return build_figure(build_parser().parse_args(argv))[0]


def title(fig):
    return fig._suptitle.get_text()


def colorbar_labels(fig):
    return [ax.get_ylabel() for ax in fig.axes if ax.get_label() == "<colorbar>"]


@pytest.mark.parametrize("method", ["filters", "feature-maps", "saliency", "smoothgrad",
                                    "guided-backprop", "gradcam", "fantasy", "deep-dream",
                                    "confusion"])
def test_every_method_writes_a_png_through_the_cli(trained, capsys, method):
    folder, ws, record = trained
    png = folder / f"{method}.png"
    extra = ["--steps", "3"] if method in ("fantasy", "deep-dream") else []
    code, out, err = run_cli(capsys, "inspect", record.id, "--method", method, "--out", png,
                             "--workspace", ws, *extra)
    assert code == 0, err
    assert png.read_bytes()[:8] == PNG and f"wrote {png}" in out
    assert not [p for p in folder.iterdir() if p.name.startswith(f".{png.name}.tmp")]


def test_confusion_has_class_names_counts_and_a_colour_bar(trained):
    _, _, record = trained
    fig = figure_of(trained, "--method", "confusion")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == SHAPES
    assert [t.get_text() for t in ax.get_yticklabels()] == SHAPES
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    counts = [int(t.get_text()) for t in ax.texts]
    assert len(counts) == 36
    head = title(fig)
    evaluated = int(head.split("confusion matrix on ")[1].split()[0])
    assert sum(counts) == evaluated > 0 and "test samples" in head
    assert record.id in head and "accuracy" in head
    assert colorbar_labels(fig) == ["fraction of the true class"]


def test_filters_and_feature_maps_name_the_layer_and_index_the_channels(trained):
    fig = figure_of(trained, "--method", "filters", "--layer", "conv2")
    assert title(fig).startswith("filters of conv2 (Conv2D): 64 filters of 3x3x32")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "input channel" and ax.get_ylabel() == "filter"
    assert [t.get_text() for t in ax.get_xticklabels()][:3] == ["0", "2", "4"]
    assert colorbar_labels(fig) == ["weight"]
    fig = figure_of(trained, "--method", "feature-maps", "--layer", "conv1")
    assert title(fig).startswith("feature maps of conv1 (Conv2D): 32 channels of 32x32")
    assert "input: test sample 0 (true: " in title(fig)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "channel = row + column"
    rows = [int(t.get_text()) for t in ax.get_yticklabels()]
    cols = [int(t.get_text()) for t in ax.get_xticklabels()]
    assert rows == [0, 8, 16, 24] and cols == list(range(8))
    assert colorbar_labels(fig) == ["activation (one scale for the layer)"]


@pytest.mark.parametrize("method, name, bar", [
    ("saliency", "Saliency for", "|d score / d pixel|, max over channels"),
    ("smoothgrad", "SmoothGrad for", "|mean d score / d pixel|, max over channels"),
    ("gradcam", "Grad-CAM at conv3 for", "Grad-CAM (1 = its peak)"),
    ("guided-backprop", "Guided backprop for", "d score / d pixel (guided)"),
])
def test_attribution_maps_name_the_class_and_have_a_colour_scale(trained, method, name, bar):
    fig = figure_of(trained, "--method", method)
    head = title(fig)
    assert head.startswith(name) and "(predicted, p=" in head
    assert any(f"class '{name}'" in head for name in SHAPES)
    assert bar in colorbar_labels(fig)
    asked = figure_of(trained, "--method", method, "--class", "5")
    assert "class 'ring'" in title(asked)


def test_deep_dream_changes_the_image_and_honours_its_settings(trained):
    fig = figure_of(trained, "--method", "deep-dream", "--layer", "conv1", "--octaves", "2",
                    "--steps", "4", "--step-size", "0.05")
    head = title(fig)
    assert head.startswith("deep dream on conv1: 2 octaves x 4 steps, step size 0.05")
    before, after = (np.asarray(ax.images[0].get_array()) for ax in fig.axes[:2])
    assert before.shape == after.shape and not np.allclose(before, after)
    assert colorbar_labels(fig) == ["dream - input (mean over channels)"]


def test_fantasy_honours_steps(trained):
    fig = figure_of(trained, "--method", "fantasy", "--steps", "7", "--class", "1")
    assert title(fig).startswith("fantasy image of class 'square': 7 steps")
    (line,) = fig.axes[1].lines
    assert len(line.get_xdata()) == 7


def test_a_model_file_with_an_image(trained, capsys, tmp_path):
    _, _, record = trained
    image = tmp_path / "mine.png"
    rgb = (np.random.default_rng(0).random((20, 24, 3)) * 255).astype(np.uint8)
    import tensorflow as tf

    image.write_bytes(tf.io.encode_png(rgb).numpy())
    out = tmp_path / "dream.png"
    code, _, err = run_cli(capsys, "inspect", record.model_path, "--method", "deep-dream",
                           "--image", image, "--steps", "2", "--octaves", "1", "--out", out)
    assert code == 0, err and out.read_bytes()[:8] == PNG
    argv = ["inspect", str(record.model_path), "--method", "saliency", "--image", str(image),
            "--out", str(tmp_path / "s.png")]
    fig = build_figure(build_parser().parse_args(argv))[0]
    assert "model file model.keras; input: mine.png" in title(fig)
    assert "class '" in title(fig)  # a file has no class names: the index is the name
    code, _, err = run_cli(capsys, "inspect", record.model_path, "--method", "confusion",
                           "--out", tmp_path / "c.png")
    assert code == 2 and "needs the run's dataset" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("args, words", [
    (["--method", "deep-dream", "--octaves", "0"], "--octaves must be in 1..8 (got 0)"),
    (["--method", "deep-dream", "--steps", "100000"], "--steps must be in 1..5000"),
    (["--method", "deep-dream", "--step-size", "3"], "--step-size must be in 0.0001..1"),
    (["--method", "saliency", "--octaves", "2"], "--octaves is for --method deep-dream only"),
    (["--method", "gradcam", "--steps", "2"], "--steps is for --method fantasy or deep-dream"),
])
def test_bad_ascent_options_are_one_line_errors(capsys, tmp_path, args, words):
    out = tmp_path / "x.png"
    code, _, err = run_cli(capsys, "inspect", "norun", *args, "--out", out)
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_the_output_is_checked_before_any_work(trained, capsys, tmp_path):
    folder, ws, record = trained
    victim = tmp_path / "victim.json"
    victim.write_text('{"precious": true}')
    code, _, err = run_cli(capsys, "inspect", record.id, "--method", "filters", "--out", victim,
                           "--workspace", ws)
    assert code == 2 and "ending in .png" in err
    assert victim.read_text() == '{"precious": true}'
    png = tmp_path / "old.png"
    png.write_bytes(b"mine")
    code, _, err = run_cli(capsys, "inspect", "no-such-run", "--method", "filters", "--out",
                           png, "--workspace", ws)
    assert code == 2 and "--force" in err and "no run" not in err  # before the run is looked up
    assert png.read_bytes() == b"mine"
    code, _, err = run_cli(capsys, "inspect", record.id, "--method", "filters", "--out", png,
                           "--workspace", ws, "--force")
    assert code == 0, err
    assert png.read_bytes()[:8] == PNG
