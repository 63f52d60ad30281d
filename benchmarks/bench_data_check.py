"""Health-check rate: `cnnlab data check` on 50,000 small PNGs and on an .npz of 50,000 images.

Generates the data once under /tmp/cnnlab-bench-health (shapes images, 32x32 RGB,
with some copies so duplicates are found), then times the check against
baselines in the same process: for the folder, reading every file's bytes
(the least any check must do) and reading plus decoding with Pillow; for the
npz, the loader's own read of the file. Prints images/s and the ratios; not a
test. Run: python benchmarks/bench_data_check.py [N]
"""

import os
import sys
import time
from pathlib import Path

import numpy as np

from cnnlab.data.health import check_data
from cnnlab.data.shapes import DEFAULT_CLASSES, generate_shapes
from cnnlab.spec import DataSpec

BASE = Path("/tmp/cnnlab-bench-health")


def make_data(n: int) -> tuple[Path, Path]:
    """Write ``n`` PNGs (one folder per class) and an npz of the same images, once."""
    from PIL import Image

    folder, npz = BASE / f"folder-{n}", BASE / f"shapes-{n}.npz"
    if folder.exists() and npz.exists():
        return folder, npz
    x, y = generate_shapes(list(DEFAULT_CLASSES), n, 32, 3, 0.05, 0)
    x[1::500] = x[0::500][: len(x[1::500])]  # some exact copies, across classes too
    tmp = BASE / f"folder-{n}.partial"
    for name in DEFAULT_CLASSES:
        (tmp / name).mkdir(parents=True, exist_ok=True)
    for i, (image, label) in enumerate(zip(x, y, strict=True)):
        Image.fromarray(image).save(tmp / DEFAULT_CLASSES[label] / f"{i:05d}.png")
    tmp.rename(folder)
    n_test = n // 6
    np.savez(npz, x_train=x[n_test:], y_train=y[n_test:], x_test=x[:n_test], y_test=y[:n_test])
    return folder, npz


def read_all(folder: Path, decode: bool) -> int:
    """Baseline: read every file (and decode it with Pillow); return the count."""
    import io

    from PIL import Image

    count = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            data = (Path(root) / name).read_bytes()
            if decode:
                Image.open(io.BytesIO(data)).load()
            count += 1
    return count


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    folder, npz = make_data(n)
    read_all(folder, decode=False)  # warm the page cache for every measurement alike
    count, t_read = timed(lambda: read_all(folder, decode=False))
    _, t_decode = timed(lambda: read_all(folder, decode=True))
    report, t_check = timed(lambda: check_data(DataSpec(source="folder", path=str(folder)), 0))
    print(f"folder of {count:,} PNGs 32x32: health check {t_check:.1f} s = "
          f"{report.images / t_check:,.0f} images/s; {len(report.duplicates)} duplicate groups")
    print(f"  baseline read bytes {count / t_read:,.0f} images/s (check / read = "
          f"{t_check / t_read:.1f}x the time); read+decode with Pillow {count / t_decode:,.0f} "
          f"images/s (check / decode = {t_check / t_decode:.1f}x)")
    from cnnlab.data.npz import load_npz

    raw, t_load = timed(lambda: load_npz(npz))
    total = len(raw.x) + len(raw.x_test)
    data = DataSpec(source="npz", path=str(npz))
    report, t_check = timed(lambda: check_data(data, 0))
    print(f"npz of {total:,} images 32x32x3: health check {t_check:.1f} s = "
          f"{total / t_check:,.0f} images/s; {len(report.duplicates)} duplicate groups")
    print(f"  baseline load_npz {t_load:.2f} s (check / load = {t_check / t_load:.1f}x)")


if __name__ == "__main__":
    main()
