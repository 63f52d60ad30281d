"""Generated datasets for the health-check tests: real files with planted problems.

``health_folder`` writes a small image folder (shapes, 16x16 PNG) with an
exact copy inside a class, a copy filed under another class (conflicting
labels), a resized and a slightly noised copy (near duplicates) and three bad
files; ``health_experiment`` writes an experiment file whose data section
points at it.
"""

import dataclasses
import shutil
from pathlib import Path

import numpy as np

from cnnlab.data.shapes import generate_shapes
from cnnlab.presetlib import load_preset
from cnnlab.spec import save_experiment

CLASSES = ("circle", "square", "triangle")
PLANTED = {
    "exact": ("square/img000.png", "square/copy000.png"),
    "conflict": ("circle/img001.png", "triangle/conflict001.png"),
    "resized": ("triangle/img002.png", "triangle/big002.png"),
    "noised": ("circle/img003.png", "circle/noisy003.png"),
}
BAD = ("circle/broken.png", "circle/empty.png", "circle/notes.txt")


def health_folder(root: Path, samples: int = 42) -> Path:
    """Write the folder described in the module docstring under ``root``; return it."""
    from PIL import Image

    x, y = generate_shapes(list(CLASSES), samples, 16, 3, 0.05, 0)
    order = _planted_order(y)
    for name in CLASSES:
        (root / name).mkdir(parents=True, exist_ok=True)
    for i, k in enumerate(order):
        Image.fromarray(x[k]).save(root / CLASSES[y[k]] / f"img{i:03d}.png")
    shutil.copy(root / PLANTED["exact"][0], root / PLANTED["exact"][1])
    shutil.copy(root / PLANTED["conflict"][0], root / PLANTED["conflict"][1])
    with Image.open(root / PLANTED["resized"][0]) as image:
        image.resize((24, 24), Image.BILINEAR).save(root / PLANTED["resized"][1])
    noisy = np.asarray(Image.open(root / PLANTED["noised"][0])).astype(int)
    noisy += np.random.default_rng(0).integers(-6, 7, noisy.shape)
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(root / PLANTED["noised"][1])
    (root / BAD[0]).write_bytes((root / "circle/img003.png").read_bytes()[:60])
    (root / BAD[1]).write_bytes(b"")
    (root / BAD[2]).write_text("not a picture")
    return root


def _planted_order(y: np.ndarray) -> list[int]:
    """Sample order such that img000 is a square, img001 and img003 circles, img002 a triangle."""
    want = ["square", "circle", "triangle", "circle"]
    order: list[int] = []
    for name in want:
        order.append(next(int(i) for i in np.flatnonzero(y == CLASSES.index(name))
                          if int(i) not in order))
    return order + [i for i in range(len(y)) if i not in order]


def health_experiment(target: Path, **data) -> Path:
    """Write the default experiment (3 classes) with these ``data`` fields; return the file."""
    exp = load_preset("default", classes=len(CLASSES))
    exp = dataclasses.replace(exp, data=dataclasses.replace(exp.data, **data))
    save_experiment(exp, target)
    return target
