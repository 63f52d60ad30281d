"""Time to the window's first paint, against the time to ``import tensorflow``.

Both run in fresh subprocesses of this interpreter, in the same session, so
the ratio says how much earlier the window appears than TensorFlow could be
ready. The window runs with ``--startup-probe``: it prints the wall-clock time
of its first paint event and quits. Uses the X display when ``DISPLAY`` is
set (e.g. under ``xvfb-run``), Qt's offscreen platform otherwise.

    python benchmarks/bench_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def _env(home: str) -> dict[str, str]:
    env = dict(os.environ, CNNLAB_HOME=home, TF_CPP_MIN_LOG_LEVEL="2")
    if not env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def first_paint_seconds(home: str) -> float:
    """Seconds from launching ``python -m cnnlab.ui`` to its first paint."""
    start = time.time()
    proc = subprocess.run([sys.executable, "-m", "cnnlab.ui", "--startup-probe"],
                          env=_env(home), capture_output=True, text=True, timeout=120)
    for line in proc.stdout.splitlines():
        if line.startswith("first_paint "):
            stamp = float(line.split()[1])
            if "tensorflow_imported=True" in line:
                print("warning: TensorFlow was imported before the first paint")
            return stamp - start
    raise RuntimeError(f"the window printed no first paint:\n{proc.stdout}\n{proc.stderr}")


def import_tensorflow_seconds(home: str) -> float:
    """Seconds for a fresh interpreter to run ``import tensorflow``."""
    start = time.time()
    subprocess.run([sys.executable, "-c", "import tensorflow"], env=_env(home),
                   capture_output=True, check=True, timeout=300)
    return time.time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        first_paint_seconds(home)  # warm the file cache and byte-code once
        paints = [first_paint_seconds(home) for _ in range(args.runs)]
        imports = [import_tensorflow_seconds(home) for _ in range(args.runs)]
    paint, tf = statistics.median(paints), statistics.median(imports)
    platform = "X display" if os.environ.get("DISPLAY") else "offscreen"
    print(f"first paint of the window ({platform}): median {paint:.3f} s "
          f"(runs: {', '.join(f'{p:.3f}' for p in paints)})")
    print(f"import tensorflow:                median {tf:.3f} s "
          f"(runs: {', '.join(f'{t:.3f}' for t in imports)})")
    print(f"ratio first paint / import tensorflow: {paint / tf:.2f}")


if __name__ == "__main__":
    main()
