"""Verified exports: .keras, .h5, SavedModel and Python script, with manifests."""

import json
import subprocess
import sys

import numpy as np
import pytest
from graphs import chain

from cnnlab.build import build_model
from cnnlab.errors import ModelFileError, RunError
from cnnlab.modelio.export import export_model, export_run

CLASSES = ["circle", "square", "star"]


@pytest.fixture(scope="module")
def lab():
    """A small trained-looking lab model with the lab's own layers and a regularizer."""
    exp = chain((10, 10, 3), ("Conv2D", {"filters": 4, "padding": 1, "activation": "relu",
                                         "kernel_l2": 1e-4}),
                ("LocalResponseNormalization", {}), ("MaxPooling2D", {"pool_size": 2}),
                ("Flatten", {}), ("Maxout", {"units": 6, "pieces": 2}),
                ("Output", {"units": 3}), name="export test")
    return exp, build_model(exp)


def _inputs(n=3):
    return np.random.default_rng(7).random((n, 10, 10, 3), dtype=np.float32)


@pytest.mark.parametrize("fmt,name", [("keras", "m.keras"), ("h5", "m.h5")])
def test_model_file_export_is_verified_and_described(tmp_path, lab, fmt, name):
    exp, model = lab
    stages = []
    result = export_model(model, fmt, tmp_path / name, spec_dict=exp.to_dict(),
                          class_names=CLASSES, preprocessing={"formula": "x / 255"},
                          progress=lambda stage, fraction: stages.append((stage, fraction)))
    assert result.path.is_file() and result.max_abs_diff <= 1e-5 and result.samples >= 3
    assert stages[-1] == ("done", 1.0)
    manifest = json.loads((tmp_path / f"{name}.manifest.json").read_text())
    assert result.manifest_path == tmp_path / f"{name}.manifest.json"
    assert set(manifest["versions"]) >= {"cnnlab", "keras", "tensorflow", "python"}
    assert manifest["model"]["input_shape"] == [10, 10, 3]
    assert manifest["class_names"] == CLASSES
    assert manifest["preprocessing"] == {"formula": "x / 255"}
    assert manifest["spec"]["model"] == exp.to_dict()["model"]
    assert manifest["custom_layers"] == ["cnnlab>LocalResponseNormalization", "cnnlab>Maxout"]
    assert "import cnnlab.layers" in manifest["load"]
    assert manifest["verification"]["max_abs_diff"] <= 1e-5
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_exports_load_in_plain_keras(tmp_path, lab):
    _, model = lab
    for fmt in ("keras", "h5"):
        export_model(model, fmt, tmp_path / f"m.{fmt}")
    np.save(tmp_path / "x.npy", _inputs())
    np.save(tmp_path / "y.npy", np.asarray(model(_inputs())))
    code = ("import sys, numpy as np, keras, cnnlab.layers\n"
            "d = sys.argv[1]\n"
            "for name in ('m.keras', 'm.h5'):\n"
            "    m = keras.saving.load_model(f'{d}/{name}')\n"
            "    assert np.allclose(m(np.load(f'{d}/x.npy')), np.load(f'{d}/y.npy'), atol=1e-5)\n"
            "print('ok')\n")
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                         text=True, timeout=120)
    assert run.stdout.strip() == "ok", run.stderr[-2000:]


def test_savedmodel_export_has_a_serving_signature(tmp_path, lab):
    import tensorflow as tf

    _, model = lab
    out = tmp_path / "served"
    result = export_model(model, "savedmodel", out, class_names=CLASSES)
    assert result.max_abs_diff <= 1e-5
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == "savedmodel" and manifest["class_names"] == CLASSES
    assert manifest["artifact"] == "served"
    serve = tf.saved_model.load(str(out)).signatures["serving_default"]
    arg = next(iter(serve.structured_input_signature[1]))
    got = next(iter(serve(**{arg: tf.constant(_inputs())}).values())).numpy()
    np.testing.assert_allclose(got, model(_inputs()), atol=1e-5)
    assert [p.name for p in tmp_path.iterdir()] == ["served"]
    (out / "stale.txt").write_text("from the old export")
    export_model(model, "savedmodel", out, class_names=CLASSES, force=True)
    assert not (out / "stale.txt").exists() and (out / "saved_model.pb").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["served"]


@pytest.mark.slow  # 11 s; every Python export is verified in a subprocess (acceptance matrix)
def test_python_script_rebuilds_the_model_in_another_process(tmp_path, lab):
    _, model = lab
    result = export_model(model, "python", tmp_path / "train.py", class_names=CLASSES)
    text = result.path.read_text()
    compile(text, str(result.path), "exec")
    assert 'if __name__ == "__main__":' in text and "import cnnlab.layers" in text
    assert "b0 = keras.layers.Conv2D(filters=4, kernel_size=(3, 3), activation='relu'" in text
    assert "this export has no experiment" in text and "\nSPEC = None\n" in text
    assert result.max_abs_diff <= 1e-5
    how = json.loads(result.manifest_path.read_text())["verification"]["how"]
    assert "separate process" in how and "trained for" not in how
    np.savez(tmp_path / "w.npz", **{f"{i}.{j}": w for i, la in enumerate(model.layers)
                                    for j, w in enumerate(la.get_weights())})
    np.save(tmp_path / "x.npy", _inputs())
    run = subprocess.run([sys.executable, "-I", str(result.path), "--check-weights",
                          str(tmp_path / "w.npz"), "--check-inputs", str(tmp_path / "x.npy"),
                          "--out", str(tmp_path / "check")], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    got = np.load(tmp_path / "check" / "check_predictions.npy")
    np.testing.assert_allclose(got, model(_inputs(), training=False), atol=1e-5)


@pytest.mark.slow  # CI budget (11 s); the acceptance matrix's python export trains in a
# subprocess in the default run
def test_python_script_trains_with_the_full_recipe(tmp_path, lab):
    exp, model = lab
    spec = exp.to_dict()
    spec["data"]["shapes"].update(classes=CLASSES, samples=60, image_size=12)
    training = spec["training"]
    training["optimizer"].update(name="sgd", momentum=0.8, nesterov=True)
    training["schedule"].update(name="cosine_restarts", warmup_epochs=0.5)
    training.update(label_smoothing=0.1, gradient_accumulation_steps=2, batch_size=8)
    training["early_stopping"]["enabled"] = True
    training["augmentation"]["layers"] = [{"type": "RandomFlip", "params": {}},
                                          {"type": "RandomCrop", "params": {"padding": 2}}]
    training["augmentation"]["mixup"]["enabled"] = True
    training["transfer"].update(strategy="fine_tune", prefix="b0", head_epochs=0, unfreeze=1,
                                lr_multiplier=0.1)
    result = export_model(model, "python", tmp_path / "t.py", spec_dict=spec)
    assert result.path.is_file() and result.max_abs_diff <= 1e-5
    text = result.path.read_text()
    assert "'cosine_restarts'" in text and "from cnnlab.data import load_data" in text
    assert "\nLeft out:\n" in text
    how = json.loads(result.manifest_path.read_text())["verification"]["how"]
    assert "separate process" in how and "trained for 1 epoch on 32 samples" in how


def test_a_script_that_rebuilds_another_network_is_refused(lab):
    from cnnlab.modelio import verify
    from cnnlab.modelio.pyrecipe import script_text

    _, model = lab
    x = verify.sample_inputs(model)
    text = script_text(model).replace("filters=4", "filters=5")
    with pytest.raises(ModelFileError, match="differs from 'b0'"):
        verify.verify_script(text, model, verify.predict(model, x), x)


def test_a_script_that_hangs_is_stopped(lab):
    from cnnlab.modelio import verify

    _, model = lab
    x = verify.sample_inputs(model)
    with pytest.raises(ModelFileError, match="did not finish within 2 s"):
        verify.verify_script("import time\ntime.sleep(60)\n", model, verify.predict(model, x),
                             x, timeout=2)


def test_failed_verification_keeps_the_old_file(tmp_path, lab, monkeypatch):
    from cnnlab.modelio import verify

    _, model = lab
    out = tmp_path / "m.keras"
    out.write_bytes(b"previous export")

    def broken(expected, got, what):
        raise ModelFileError(f"{what}: predictions differ (simulated)")

    monkeypatch.setattr(verify, "compare", broken)
    with pytest.raises(ModelFileError, match="simulated"):
        export_model(model, "keras", out, force=True)
    assert out.read_bytes() == b"previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]


def test_bad_format_and_names_are_clear_errors(tmp_path, lab):
    _, model = lab
    with pytest.raises(ModelFileError, match="unknown export format 'tfjs'"):
        export_model(model, "tfjs", tmp_path / "m.json")
    with pytest.raises(ModelFileError, match="must end in .keras"):
        export_model(model, "keras", tmp_path / "m.h5")
    with pytest.raises(RunError, match="no trained model"):
        export_run(tmp_path, "keras", tmp_path / "x.keras")


def test_export_run_uses_the_runs_spec_and_classes(tmp_path, lab):
    exp, model = lab
    run = tmp_path / "run"
    run.mkdir()
    model.save(run / "model.keras")
    spec = exp.to_dict()
    spec["data"]["shapes"]["classes"] = CLASSES
    (run / "spec.json").write_text(json.dumps(spec))
    (run / "metadata.json").write_text(json.dumps({"seed": 0}))
    result = export_run(run, "keras", tmp_path / "out" / "final.keras")
    manifest = json.loads(result.manifest_path.read_text())
    assert manifest["class_names"] == CLASSES
    assert manifest["spec"] == spec
    assert manifest["preprocessing"]["formula"] == "x / 255"


def test_importing_the_package_does_not_load_tensorflow():
    code = ("import sys, cnnlab.modelio as m\n"
            "m.application_names(); m.inspect_model_file; m.export_model\n"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
