"""Per-sample records (issue 16): the observer's losses match Keras's, a resumed run continues
them, the table's learned/forgotten/sorts, and `cnnlab runs samples`."""

import json

import numpy as np
import pytest
from cli_support import run_cli
from core.test_trainer_support import tiny_experiment

from cnnlab.runs import SamplesError, read_samples
from cnnlab.runs.samples_format import (
    EpochRecord,
    Manifest,
    epoch_path,
    samples_dir,
    write_epoch,
    write_manifest,
)

# Smoothed (one-hot) labels and augmentation layers inside the trained model.
RECIPE = {"label_smoothing": 0.1, "augmentation": {"placement": "model", "layers": [
    {"type": "RandomFlip", "params": {"mode": "horizontal_and_vertical"}}]}}


def _keras_losses(outputs, true, kind, from_logits, smoothing):
    import keras

    k = outputs.shape[1]
    onehot = np.eye(k, dtype=np.float32)[true]
    if kind == "sparse":
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits,
                                                          reduction=None)
        return np.asarray(loss(true, outputs))
    if kind == "categorical":
        loss = keras.losses.CategoricalCrossentropy(from_logits=from_logits,
                                                    label_smoothing=smoothing, reduction=None)
        return np.asarray(loss(onehot, outputs))
    return np.asarray(keras.losses.SquaredHinge(reduction=None)(2 * onehot - 1, outputs))


@pytest.mark.parametrize(("kind", "from_logits", "smoothing"), [
    ("sparse", False, 0.0), ("sparse", True, 0.0), ("categorical", False, 0.1),
    ("categorical", True, 0.2), ("squared_hinge", False, 0.0)])
def test_sample_losses_are_the_models_own_loss(kind, from_logits, smoothing):
    from cnnlab.train.sample_records import sample_losses

    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (50, 4)).astype(np.float32)
    logits[0] = [40, -40, 0, 0]  # a saturated probability is clipped as Keras clips it
    outputs = logits if from_logits or kind == "squared_hinge" else _softmax(logits)
    true = rng.integers(0, 4, 50)
    probs, losses = sample_losses(outputs, true, kind, from_logits, smoothing)
    np.testing.assert_allclose(losses, _keras_losses(outputs, true, kind, from_logits,
                                                     smoothing), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def _written_table(tmp_path, predictions, epochs_written=None):
    """Records of 4 samples (true 0, 1, 1, 0) with the given predicted classes per epoch."""
    folder = samples_dir(tmp_path)
    write_manifest(folder, Manifest(ids=["a.png", "b.png", "c.png", "train[7]"],
                                    splits=["val", "val", "train", "train"],
                                    index=np.array([0, 1, 4, 9]), true=np.array([0, 1, 1, 0]),
                                    class_names=["cat", "dog"], folder=str(tmp_path)))
    for epoch, predicted in enumerate(predictions, start=1):
        if epochs_written is None or epoch in epochs_written:
            write_epoch(folder, epoch, EpochRecord(
                loss=np.array([0.1, 0.5, 2.0, 0.3]) * epoch,
                predicted=np.array(predicted), confidence=np.array([0.9, 0.6, 0.95, 0.7]),
                margin=np.array([0.8, 0.2, 0.9, 0.05])))
    return folder


def test_table_learned_forgotten_sorts_and_filters(tmp_path):
    _written_table(tmp_path, [[0, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0]])
    table = read_samples(tmp_path)
    assert (table.epochs, table.first_epoch, len(table)) == (3, 1, 4)
    rows = {r.id: r for r in table.rows()}
    assert (rows["a.png"].first_learned, rows["a.png"].forgotten) == (1, 1)
    assert (rows["b.png"].first_learned, rows["b.png"].forgotten) == (3, 0)
    assert (rows["c.png"].first_learned, rows["c.png"].forgotten) == (None, 0)
    assert rows["c.png"].predicted == "cat" and rows["c.png"].true == "dog"
    assert rows["a.png"].file == str(tmp_path / "a.png")
    assert rows["train[7]"].loss == pytest.approx(0.9)
    assert [r.id for r in table.rows("loss")] == ["c.png", "b.png", "train[7]", "a.png"]
    assert [r.id for r in table.rows("wrong-confident")][:2] == ["c.png", "a.png"]
    assert [r.id for r in table.rows("ambiguous")] == ["train[7]", "b.png", "a.png", "c.png"]
    assert [r.id for r in table.rows("forgotten")][0] == "a.png"
    assert [r.id for r in table.rows(true_class="dog", limit=1)] == ["c.png"]
    assert [r.id for r in table.rows(predicted_class="dog")] == ["b.png"]
    assert [r.id for r in table.rows(split="train")] == ["c.png", "train[7]"]
    assert table.loss_curve("c.png") == pytest.approx([2.0, 4.0, 6.0])
    for bad in ({"sort": "size"}, {"true_class": "cow"}, {"split": "test"}):
        with pytest.raises(SamplesError):
            table.rows(**bad)
    with pytest.raises(SamplesError, match="no recorded sample"):
        table.loss_curve("zebra.png")


def test_reading_stops_at_a_gap_and_at_the_runs_epochs(tmp_path):
    with pytest.raises(SamplesError, match="has no per-sample records"):
        read_samples(tmp_path)
    folder = _written_table(tmp_path, [[0, 1, 1, 0]] * 4, epochs_written={1, 2, 4})
    assert read_samples(tmp_path).epochs == 2
    assert read_samples(tmp_path, max_epochs=1).epochs == 1
    with pytest.raises(SamplesError, match="no epoch completed"):
        read_samples(tmp_path, max_epochs=0)
    epoch_path(folder, 1).write_bytes(b"not an npz")
    with pytest.raises(SamplesError, match="damaged"):
        read_samples(tmp_path)


def test_records_of_a_stopped_then_resumed_run_and_runs_samples(tmp_path, capsys):
    """Records match Keras's validation loss each epoch (smoothed labels, augmentation in the
    model), follow the validation order (the saved model's own losses), continue over a
    resume, and `runs samples` lists them."""
    from cnnlab.runs.store import RunStore
    from cnnlab.train.events import Control, EpochEnded
    from cnnlab.train.trainer import run

    ws = tmp_path / "ws"
    control = Control()
    first = run(tiny_experiment(samples=100, epochs=2, **RECIPE), lambda e: isinstance(
        e, EpochEnded) and control.stop(), control, workspace=ws)
    assert (first.status, first.epochs_done) == ("stopped", 1)
    folder = samples_dir(ws / "runs" / first.run_id)
    assert read_samples(folder.parent).epochs == 1
    epoch_path(folder, 3).write_bytes(epoch_path(folder, 1).read_bytes())  # a stale epoch ...
    done = run(None, lambda e: None, workspace=ws, resume=first.run_id)
    assert done.status == "finished"
    assert not epoch_path(folder, 3).exists()  # ... is dropped by the resume
    table = read_samples(folder.parent)
    val = table.rows(split="val", sort="ambiguous")
    metrics = RunStore(ws).metrics(first.run_id)
    data = _tiny_data()
    assert table.epochs == 2 and len(val) == data.sizes["val"]
    assert len(table) == data.sizes["val"] + data.sizes["train"]  # a small set is all recorded
    val_loss = [np.mean(table.losses[e][: len(val)]) for e in range(2)]
    np.testing.assert_allclose(val_loss, metrics["val_loss"], rtol=1e-4)
    assert np.mean([r.true == r.predicted for r in val]) == pytest.approx(
        metrics["val_accuracy"][-1])
    _check_order(done.model_path, table, data)

    code, out, err = run_cli(capsys, "runs", "samples", first.run_id, "--sort", "forgotten",
                             "--split", "train", "--limit", "3", "--json", "--workspace", ws)
    assert code == 0, err
    listed = json.loads(out)
    assert listed["epochs"] == 2 and len(listed["samples"]) == 3
    assert {s["split"] for s in listed["samples"]} == {"train"}
    code, out, err = run_cli(capsys, "runs", "samples", first.run_id, "--class", "cross",
                             "--workspace", ws)
    assert code == 0 and "sorted by loss" in out and "learned  forgotten" in out
    assert len(out.splitlines()) == 2 + sum(r.true == "cross" for r in table.rows())
    import shutil

    shutil.rmtree(folder)
    code, _, err = run_cli(capsys, "runs", "samples", first.run_id, "--workspace", ws)
    assert code == 2 and "has no per-sample records" in err and len(err.splitlines()) == 1


def _tiny_data():
    from cnnlab.data import load_data

    exp = tiny_experiment(samples=100)
    return load_data(exp.data, (16, 16, 3), exp.training.seed)


def _check_order(model_path, table, data):
    """The last epoch's validation losses are the saved model's, sample by sample, in order."""
    import keras

    from cnnlab.train.sample_records import sample_losses

    x, y = data.arrays("val")
    outputs = keras.models.load_model(model_path, compile=False).predict(x, verbose=0)
    _, losses = sample_losses(outputs, y, "categorical", from_logits=False,
                              label_smoothing=RECIPE["label_smoothing"])
    np.testing.assert_allclose(table.losses[-1][: len(y)], losses, rtol=1e-4, atol=1e-6)
    assert table.ids[: len(y)] == data.ids("val")


@pytest.mark.parametrize(("args", "words"), [
    (("nope",), "no run 'nope'"),
    ((), "runs samples needs one run id"),
])
def test_runs_samples_refuses_in_one_line(tmp_path, capsys, args, words):
    code, _, err = run_cli(capsys, "runs", "samples", *args, "--workspace", tmp_path / "ws")
    assert code == 2 and err.strip().startswith("cnnlab: error:") and words in err, err
    assert len(err.strip().splitlines()) == 1
