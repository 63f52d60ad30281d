"""The health report's per-class mean images as PNG files (``cnnlab data check --out-dir``).

File names are ``mean-NNN.png`` by class index, never the class name (a
folder name is data, not a path); every target is checked before anything is
written, a file is replaced only with ``force``, and each is written
atomically.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from cnnlab.atomic import atomic_write_bytes
from cnnlab.errors import DataError


def write_mean_images(report, out_dir: str | Path, force: bool = False) -> dict[str, str]:
    """Write each class's mean image as a PNG in ``out_dir``; return ``class -> file``.

    Raises:
        DataError: If ``out_dir`` is not a folder, or a target exists and not ``force``.

    """
    from PIL import Image

    folder = Path(out_dir).expanduser()
    if folder.exists() and not folder.is_dir():
        raise DataError(f"--out-dir {folder} is a file, not a folder")
    targets = {name: folder / f"mean-{report.class_names.index(name):03d}.png"
               for name in report.mean_images}
    existing = [str(t) for t in targets.values() if t.exists() or t.is_symlink()]
    if existing and not force:
        raise DataError(f"{existing[0]} exists ({len(existing)} file(s) would be replaced); "
                        "pass --force to replace them")
    folder.mkdir(parents=True, exist_ok=True)
    for name, target in targets.items():
        pixels = np.clip(np.asarray(report.mean_images[name]).round(), 0, 255).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(buffer, "PNG")
        atomic_write_bytes(target, buffer.getvalue())
    return {name: str(target) for name, target in targets.items()}
