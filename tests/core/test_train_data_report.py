"""`cnnlab train` names every skipped file and left-out class on the terminal."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import json  # noqa: E402

import numpy as np  # noqa: E402
from core.test_trainer_support import tiny_spec  # noqa: E402

from cnnlab.cli import main  # noqa: E402


def _write_png(path, seed):
    import tensorflow as tf

    image = np.random.default_rng(seed).integers(0, 255, (16, 16, 3), dtype=np.uint8)
    path.write_bytes(tf.io.encode_png(image).numpy())


def _folder_with_bad_files(root, bad: int):
    for cls in ("cat", "dog"):
        (root / cls).mkdir(parents=True)
        for i in range(12):
            _write_png(root / cls / f"{i}.png", hash((cls, i)) % 1000)
    for i in range(bad):
        (root / "cat" / f"broken{i:02d}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"x" * 20)
    (root / "fish").mkdir()  # a class without a single image
    return root


def test_train_names_every_skipped_file_and_left_out_class(tmp_path, capsys):
    folder = _folder_with_bad_files(tmp_path / "pets", bad=25)
    spec = tiny_spec(epochs=1, classes=("cat", "dog"))
    spec["data"] = {"source": "folder", "path": str(folder), "bad_files": "skip",
                    "test_split": 0.0}
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))

    code = main(["train", str(path), "--workspace", str(tmp_path / "ws"), "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    named = [f"broken{i:02d}.png" for i in range(25) if f"broken{i:02d}.png" in out.err]
    assert len(named) == 20  # the first 20 on the terminal ...
    more = next(line for line in out.err.splitlines() if "5 more" in line)
    listing = more.split("listed in ")[1].strip()
    assert listing.endswith("skipped_files.txt")
    run_dir = json.loads(out.out.strip().splitlines()[-1])["run_dir"]
    assert listing.startswith(run_dir)
    text = open(listing, encoding="utf-8").read()  # ... and all of them in the run folder
    assert all(f"broken{i:02d}.png" in text for i in range(25)) and "fish" in text
    assert "fish" in out.err  # the class that was left out, with its reason
