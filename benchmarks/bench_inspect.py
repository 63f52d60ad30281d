"""Time feature maps and saliency on VGG16 against one plain forward pass.

Run: ``python benchmarks/bench_inspect.py [--repeats N]``. Builds
``keras.applications.VGG16(weights=None)`` at 224x224x3, warms every path up
once, then prints the median time of (a) the feature maps of all layers for
one image and (b) one vanilla saliency map, each with its ratio to a plain
``model(x)`` forward pass (and to ``model.predict``) in the same process;
then (c) one deep-dream step on ``block5_conv3`` against the same forward pass
and (d) drawing and encoding the labelled PNG figure of the 512 feature maps
of ``block5_conv3`` (what ``cnnlab inspect --method feature-maps`` writes).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from cnnlab.inspect.activations import feature_maps  # noqa: E402
from cnnlab.inspect.attribution import saliency  # noqa: E402
from cnnlab.inspect.dream import deep_dream  # noqa: E402
from cnnlab.inspect.figures import grid_figure, png_bytes  # noqa: E402


def median_time(fn, repeats: int) -> float:
    fn()  # warm-up: trace and build once
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    model = keras.applications.VGG16(weights=None, input_shape=(224, 224, 3))
    x = np.random.default_rng(0).uniform(0, 255, (1, 224, 224, 3)).astype(np.float32)
    forward = median_time(lambda: model(x, training=False).numpy(), args.repeats)
    predict = median_time(lambda: model.predict(x, verbose=0), args.repeats)
    traced_model = tf.function(lambda v: model(v, training=False))
    traced = median_time(lambda: traced_model(x).numpy(), args.repeats)
    maps = median_time(lambda: feature_maps(model, x[0]), args.repeats)
    sal = median_time(lambda: saliency(model, x[0]), args.repeats)
    print(f"VGG16 224x224x3, {os.cpu_count()} CPU cores, median of {args.repeats}")
    print(f"forward  model(x)        {forward:7.3f} s")
    print(f"forward  model.predict   {predict:7.3f} s")
    print(f"forward  tf.function     {traced:7.3f} s   (traced model(x), for reference)")
    steps = 5
    dream = median_time(lambda: deep_dream(model, x[0], ["block5_conv3"], octaves=1,
                                           steps=steps, input_range=(0.0, 255.0)),
                        args.repeats) / steps
    act = np.moveaxis(feature_maps(model, x[0], ["block5_conv3"])["block5_conv3"], -1, 0)
    figure = median_time(lambda: png_bytes(grid_figure(act, "512 feature maps",
                                                       cbar_label="activation")), args.repeats)
    for name, t in (("feature maps (all)", maps), ("saliency (vanilla)", sal),
                    ("deep dream, per step", dream), ("labelled PNG, 512 maps", figure)):
        print(f"{name:22s}  {t:7.3f} s   x{t / forward:5.2f} of model(x)   "
              f"x{t / predict:5.2f} of predict")


if __name__ == "__main__":
    main()
