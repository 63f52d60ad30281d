"""Analysis speed: full analysis of a 150-block graph and of ResNet-152, vs a JSON parse.

Prints times and ratios; not a test. Run: python benchmarks/bench_analysis.py
"""

import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from graphs import random_graph  # noqa: E402

from cnnlab.analysis import analyze  # noqa: E402
from cnnlab.spec import experiment_from_dict  # noqa: E402


def best_of(fn, n=20):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), sorted(times)[len(times) // 2]


def main():
    graph = random_graph(random.Random(7), max_blocks=200)
    seed = 0
    while len(graph["model"]["nodes"]) < 150:
        seed += 1
        graph = random_graph(random.Random(seed), max_blocks=220)
    model = experiment_from_dict(graph).model
    text = json.dumps(graph)
    best, median = best_of(lambda: analyze(model))
    parse_best, _ = best_of(lambda: json.loads(text))
    load_best, _ = best_of(lambda: experiment_from_dict(json.loads(text)))
    print(f"random graph, {len(model.nodes)} blocks: analysis best {best * 1e3:.2f} ms, "
          f"median {median * 1e3:.2f} ms (target < 50 ms)")
    print(f"  load+validate {load_best * 1e3:.2f} ms; json.loads alone {parse_best * 1e3:.3f} ms;"
          f" analysis / json.loads = {best / parse_best:.0f}x")
    try:
        from cnnlab.presetlib import load_preset
    except ImportError:
        return
    for name in ("resnet50", "resnet152", "googlenet"):
        exp = load_preset(name)
        flat = len(exp.model.expand().nodes)
        best, median = best_of(lambda e=exp: analyze(e.model), 10)
        print(f"{name} ({flat} blocks): analysis best {best * 1e3:.2f} ms, median "
              f"{median * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
