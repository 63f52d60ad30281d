"""Write the classic-network presets ``presets/*.json``.

The JSON files are the source of truth (committed, read by users and the lab);
this script only saves typing their 150-odd blocks by hand. Run it after
changing a network here, and commit its output::

    python tools/make_presets.py            # writes presets/<name>.json
    python tools/make_presets.py --check    # exit 1 when a file is out of date

``presets/default.json`` is the app's own starting experiment and is not
written here.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from cnnlab.spec.module_library import (
    INCEPTION_3A,
    INCEPTION_PARAMS,
    RELU,
    Dict,
    Graph,
    basic_block,
    bottleneck_block,
    inception_module,
)

PRESETS_DIR = Path(__file__).resolve().parent.parent / "presets"
ADJUSTABLE = ["input_shape", "classes", "width"]


def preset(name: str, title: str, description: str, paper: str, shape: list[int],
           classes: int, model: Dict, exp_description: str, training: Dict | None = None,
           data: Dict | None = None) -> Dict:
    """Return the preset file's dict."""
    experiment: Dict = {"schema_version": 1, "name": title, "description": exp_description,
                        "model": model}
    if training:
        experiment["training"] = training
    if data:
        experiment["data"] = data
    return {"name": name, "title": title, "description": description, "paper": paper,
            "input_shape": shape, "classes": classes, "adjustable": ADJUSTABLE,
            "experiment": experiment}


def sgd(lr: float, epochs: int, batch: int, decay: float,
        boundaries: list | None = None) -> Dict:
    """Return an SGD-with-momentum recipe as in the papers, shortened to lab-sized runs.

    The papers' weight decay ``decay`` (gradient ``decay * w``) is the Keras L2
    penalty ``decay / 2 * sum(w^2)``.
    """
    recipe: Dict = {"epochs": epochs, "batch_size": batch,
                    "optimizer": {"name": "sgd", "learning_rate": lr, "momentum": 0.9},
                    "regularization": {"kernel_l2": decay / 2}}
    if boundaries:
        recipe["schedule"] = {"name": "step", "boundaries": boundaries, "gamma": 0.1}
    return recipe


CIFAR_AUGMENT = {"layers": [{"type": "RandomCrop", "params": {"padding": 4}},
                            {"type": "RandomFlip", "params": {"mode": "horizontal"}}]}


# ----------------------------------------------------------------------------- small nets

def mlp128() -> Dict:
    """Make the lectures' MNIST baseline: one hidden layer of 128 ReLUs."""
    g = Graph()
    g.add("input", "Input", {"shape": [28, 28, 1]})
    g.add("flatten", "Flatten")
    g.add("fc1", "Dense", {"units": 128, "activation": "relu"})
    g.add("output", "Output", {"units": 10, "activation": "softmax"})
    return preset(
        "mlp128", "MLP 128", "A fully-connected baseline: Flatten, 128 ReLUs, softmax; "
        "101,770 parameters and no convolution at all.", "",
        [28, 28, 1], 10, g.model(), "The multilayer-perceptron baseline to beat with a CNN.",
        {"epochs": 10, "batch_size": 64},
        {"shapes": {"image_size": 28, "channels": 1}})


def lenet5() -> Dict:
    """LeNet-5 in its classic textbook form (full C3, average pooling, tanh)."""
    g = Graph()
    g.add("input", "Input", {"shape": [32, 32, 1]})
    tanh = {"activation": "tanh"}
    g.add("c1", "Conv2D", {"filters": 6, "kernel_size": 5, **tanh})
    g.add("s2", "AveragePooling2D", {"pool_size": 2})
    g.add("c3", "Conv2D", {"filters": 16, "kernel_size": 5, **tanh})
    g.add("s4", "AveragePooling2D", {"pool_size": 2})
    g.add("c5", "Conv2D", {"filters": 120, "kernel_size": 5, **tanh})
    g.add("flatten", "Flatten")
    g.add("f6", "Dense", {"units": 84, **tanh})
    g.add("output", "Output", {"units": 10, "activation": "softmax"})
    return preset(
        "lenet5", "LeNet-5", "LeCun's digit reader in its classic form: conv 6@5x5 tanh, "
        "avg-pool, conv 16@5x5, C5 120, F6 84, softmax 10; 61,706 parameters (full C3 "
        "connectivity and a softmax instead of the paper's sparse C3 and RBF output).",
        "Y. LeCun, L. Bottou, Y. Bengio, P. Haffner. Gradient-based learning applied to "
        "document recognition. Proc. IEEE 86(11), 1998.",
        [32, 32, 1], 10, g.model(), "LeNet-5: the first successful CNN, for 32x32 digits.",
        {"epochs": 10, "batch_size": 64},
        {"shapes": {"image_size": 32, "channels": 1}})


def alexnet() -> Dict:
    """AlexNet as in the lecture: one tower, CONV1..5, NORM after CONV1/2, FC 4096-4096."""
    g = Graph()
    g.add("input", "Input", {"shape": [227, 227, 3]})
    g.add("conv1", "Conv2D", {"filters": 96, "kernel_size": 11, "strides": 4, **RELU})
    g.add("pool1", "MaxPooling2D", {"pool_size": 3, "strides": 2})
    g.add("norm1", "LocalResponseNormalization", {})
    g.add("conv2", "Conv2D", {"filters": 256, "kernel_size": 5, "padding": 2, **RELU})
    g.add("pool2", "MaxPooling2D", {"pool_size": 3, "strides": 2})
    g.add("norm2", "LocalResponseNormalization", {})
    for i, f in ((3, 384), (4, 384), (5, 256)):
        g.add(f"conv{i}", "Conv2D", {"filters": f, "kernel_size": 3, "padding": 1, **RELU})
    g.add("pool5", "MaxPooling2D", {"pool_size": 3, "strides": 2})
    g.add("flatten", "Flatten")
    for i in (6, 7):
        g.add(f"fc{i}", "Dense", {"units": 4096, **RELU})
        g.add(f"dropout{i}", "Dropout", {"rate": 0.5})
    g.add("fc8", "Output", {"units": 1000, "activation": "softmax"})
    return preset(
        "alexnet", "AlexNet", "AlexNet as in the lecture, on one tower: 227x227x3, CONV1 96 "
        "11x11/4, pool, NORM, CONV2 256 5x5 pad 2, pool, NORM, CONV3-5, pool, FC 4096-4096-"
        "1000 with dropout; 62,378,344 parameters.",
        "A. Krizhevsky, I. Sutskever, G. E. Hinton. ImageNet classification with deep "
        "convolutional neural networks. NIPS 2012.",
        [227, 227, 3], 1000, g.model(), "AlexNet (single tower), the ImageNet 2012 winner.",
        sgd(0.01, 10, 32, 5e-4))


# ----------------------------------------------------------------------------------- VGG

VGG_CONFIGS = {  # convolutions per stage (Simonyan and Zisserman, Table 1, A B D E)
    "vgg11": (1, 1, 2, 2, 2), "vgg13": (2, 2, 2, 2, 2),
    "vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4),
}
VGG_PARAMS = {"vgg11": "132,863,336", "vgg13": "133,047,848", "vgg16": "138,357,544",
              "vgg19": "143,667,240"}
VGG_PAPER = ("K. Simonyan, A. Zisserman. Very deep convolutional networks for large-scale "
             "image recognition. ICLR 2015.")


def vgg(name: str) -> Dict:
    """VGG configuration A, B, D or E with lecture-style ids conv1_1 ... fc1, fc2, fc3."""
    g = Graph()
    g.add("input", "Input", {"shape": [224, 224, 3]})
    for stage, (count, filters) in enumerate(zip(VGG_CONFIGS[name],
                                                 (64, 128, 256, 512, 512), strict=True), start=1):
        for i in range(1, count + 1):
            g.add(f"conv{stage}_{i}", "Conv2D", {"filters": filters, "kernel_size": 3,
                                                 "padding": "same", **RELU})
        g.add(f"pool{stage}", "MaxPooling2D", {"pool_size": 2})
    g.add("flatten", "Flatten")
    for i in (1, 2):
        g.add(f"fc{i}", "Dense", {"units": 4096, **RELU})
        g.add(f"dropout{i}", "Dropout", {"rate": 0.5})
    g.add("fc3", "Output", {"units": 1000, "activation": "softmax"})
    depth = name[3:]
    return preset(
        name, f"VGG-{depth}", f"VGG-{depth}: {sum(VGG_CONFIGS[name])} 3x3 convolutions "
        "(stride 1, pad 1) in five stages of 64-128-256-512-512 filters, each closed by "
        f"2x2 max-pooling, then FC 4096-4096-1000; {VGG_PARAMS[name]} parameters.",
        VGG_PAPER, [224, 224, 3], 1000, g.model(),
        f"VGG-{depth}: depth from small 3x3 filters.", sgd(0.01, 10, 32, 5e-4))


# -------------------------------------------------------------------------------- ResNet

RESNET_PAPER = ("K. He, X. Zhang, S. Ren, J. Sun. Deep residual learning for image "
                "recognition. CVPR 2016.")


RESNETS = {  # blocks per stage (Table 1), bottleneck?, params, paper's and our GMACs
    "resnet18": ((2, 2, 2, 2), False, "11,689,512", "1.8", "1.81"),
    "resnet34": ((3, 4, 6, 3), False, "21,797,672", "3.6", "3.66"),
    "resnet50": ((3, 4, 6, 3), True, "25,557,032", "3.8", "4.09"),
    "resnet101": ((3, 4, 23, 3), True, "44,549,160", "7.6", "7.80"),
    "resnet152": ((3, 8, 36, 3), True, "60,192,808", "11.3", "11.51"),
}


def _resnet_stages(g: Graph, counts: tuple[int, ...], bottleneck: bool) -> None:
    for stage, (count, width) in enumerate(zip(counts, (64, 128, 256, 512), strict=True), start=2):
        for b in range(1, count + 1):
            params: Dict = {"filters": width}
            if bottleneck:
                params["out_filters"] = 4 * width
            first = b == 1 and (bottleneck or stage > 2)
            if first:
                params["strides"] = 1 if stage == 2 else 2
            kind = ("bottleneck" if bottleneck else "basic") + ("_proj" if first else "")
            g.add(f"conv{stage}_block{b}", kind, params)


def resnet(name: str) -> Dict:
    """ResNet-18/34/50/101/152 for 224x224 ImageNet images."""
    counts, bottleneck, params, paper_macs, macs = RESNETS[name]
    g = Graph()
    g.add("input", "Input", {"shape": [224, 224, 3]})
    g.conv_bn("1", 64, 7, 2)
    g.add("pad1", "ZeroPadding2D", {"padding": 1})
    g.add("pool1", "MaxPooling2D", {"pool_size": 3, "strides": 2})
    _resnet_stages(g, counts, bottleneck)
    g.add("avg_pool", "GlobalAveragePooling2D")
    g.add("predictions", "Output", {"units": 1000, "activation": "softmax"})
    kind = "bottleneck" if bottleneck else "basic"
    modules = {kind: (bottleneck_block if bottleneck else basic_block)(False),
               f"{kind}_proj": (bottleneck_block if bottleneck else basic_block)(True)}
    depth = name[6:]
    return preset(
        name, f"ResNet-{depth}", f"ResNet-{depth} (He et al. 2016): 7x7/2 conv, 3x3/2 max-"
        f"pool, {'-'.join(map(str, counts))} {kind} blocks in four stages, global average "
        f"pooling, FC 1000; convolutions without bias before batch-norm, projection "
        f"shortcuts where the shape changes; {params} learned parameters (torchvision's "
        f"count; Keras also counts the batch-norm moving averages), {macs}e9 multiply-adds "
        f"(the paper's table: {paper_macs}e9).",
        RESNET_PAPER, [224, 224, 3], 1000, g.model(modules),
        f"ResNet-{depth}: residual learning with {kind} blocks.", sgd(0.01, 10, 32, 1e-4))


CIFAR_RESNETS = {"resnet20": (3, "272,474"), "resnet56": (9, "855,770")}


def resnet_cifar(name: str) -> Dict:
    """He et al.'s CIFAR-10 ResNets (section 4.2): 6n+2 layers on 32x32 images."""
    n, params = CIFAR_RESNETS[name]
    g = Graph()
    g.add("input", "Input", {"shape": [32, 32, 3]})
    g.conv_bn("1", 16, 3, 1)
    for stage, width in enumerate((16, 32, 64), start=1):
        for b in range(1, n + 1):
            if b == 1 and stage > 1:
                g.add(f"stage{stage}_block{b}", "basic_proj", {"filters": width, "strides": 2})
            else:
                g.add(f"stage{stage}_block{b}", "basic", {"filters": width})
    g.add("avg_pool", "GlobalAveragePooling2D")
    g.add("predictions", "Output", {"units": 10, "activation": "softmax"})
    modules = {"basic": basic_block(False), "basic_proj": basic_block(True)}
    depth = name[6:]
    return preset(
        name, f"ResNet-{depth} (CIFAR)", f"ResNet-{depth} for 32x32 images (He et al. 2016, "
        f"section 4.2): a 3x3 conv of 16 filters, then 3 stages of {n} basic blocks with "
        f"16/32/64 filters, global average pooling, FC 10; projection shortcuts (option B) "
        f"where the shape changes; {params} learned parameters.",
        RESNET_PAPER, [32, 32, 3], 10, g.model(modules),
        f"ResNet-{depth}: a deep residual network small enough for CIFAR-sized images.",
        {**sgd(0.1, 30, 128, 1e-4, [15, 22.5]), "augmentation": CIFAR_AUGMENT})


# ----------------------------------------------------------------------------- GoogLeNet

INCEPTIONS = (  # name, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj (Table 1)
    ("3a", *INCEPTION_3A), ("3b", 128, 128, 192, 32, 96, 64), ("pool3", ),
    ("4a", 192, 96, 208, 16, 48, 64), ("4b", 160, 112, 224, 24, 64, 64),
    ("4c", 128, 128, 256, 24, 64, 64), ("4d", 112, 144, 288, 32, 64, 64),
    ("4e", 256, 160, 320, 32, 128, 128), ("pool4", ),
    ("5a", 256, 160, 320, 32, 128, 128), ("5b", 384, 192, 384, 48, 128, 128),
)
GOOGLENET_LRN = {"depth_radius": 2, "bias": 1.0, "alpha": 2e-5, "beta": 0.75}  # Caffe's


def googlenet() -> Dict:
    """GoogLeNet (Inception v1) without the auxiliary classifiers."""
    g = Graph()
    g.add("input", "Input", {"shape": [224, 224, 3]})
    g.add("conv1", "Conv2D", {"filters": 64, "kernel_size": 7, "strides": 2, "padding": 3,
                              **RELU})
    g.add("pool1", "MaxPooling2D", {"pool_size": 3, "strides": 2, "padding": "same"})
    g.add("norm1", "LocalResponseNormalization", GOOGLENET_LRN)
    g.add("conv2_reduce", "Conv2D", {"filters": 64, "kernel_size": 1, **RELU})
    g.add("conv2", "Conv2D", {"filters": 192, "kernel_size": 3, "padding": "same", **RELU})
    g.add("norm2", "LocalResponseNormalization", GOOGLENET_LRN)
    g.add("pool2", "MaxPooling2D", {"pool_size": 3, "strides": 2, "padding": "same"})
    for row in INCEPTIONS:
        if len(row) == 1:
            g.add(row[0], "MaxPooling2D", {"pool_size": 3, "strides": 2, "padding": "same"})
        else:
            widths = dict(zip(INCEPTION_PARAMS, row[1:], strict=True))
            g.add(f"inception_{row[0]}", "inception", widths)
    g.add("avg_pool", "GlobalAveragePooling2D")
    g.add("dropout", "Dropout", {"rate": 0.4})
    g.add("predictions", "Output", {"units": 1000, "activation": "softmax"})
    return preset(
        "googlenet", "GoogLeNet", "GoogLeNet (Inception v1): 7x7/2 conv, 1x1 and 3x3 convs, "
        "nine inception modules of four concatenated branches, global average pooling, "
        "dropout 40%, FC 1000; 6,998,552 parameters. The two auxiliary classifiers used in "
        "training are left out.",
        "C. Szegedy et al. Going deeper with convolutions. CVPR 2015.",
        [224, 224, 3], 1000, g.model({"inception": inception_module()}),
        "GoogLeNet: inception modules and a global-average-pooling head.",
        sgd(0.01, 10, 32, 2e-4))


# --------------------------------------------------------------------- CIFAR-sized nets

def vgg_cifar() -> Dict:
    """Make a small VGG-style network that trains on a laptop CPU."""
    g = Graph()
    g.add("input", "Input", {"shape": [32, 32, 3]})
    for stage, filters in enumerate((32, 64, 128), start=1):
        for i in (1, 2):
            g.add(f"conv{stage}_{i}", "Conv2D", {"filters": filters, "kernel_size": 3,
                                                 "padding": "same", **RELU})
        g.add(f"pool{stage}", "MaxPooling2D", {"pool_size": 2})
    g.add("flatten", "Flatten")
    g.add("fc1", "Dense", {"units": 128, **RELU})
    g.add("dropout1", "Dropout", {"rate": 0.5})
    g.add("output", "Output", {"units": 10, "activation": "softmax"})
    return preset(
        "vgg_cifar", "VGG-style CIFAR net", "A small VGG-style net for 32x32 images: three "
        "stages of two 3x3 convolutions (32-64-128 filters) and 2x2 max-pooling, FC 128, "
        "dropout, softmax; 550,570 parameters, trains on a laptop CPU.", "",
        [32, 32, 3], 10, g.model(), "VGG's recipe scaled down to CIFAR-sized images.",
        {"epochs": 15, "batch_size": 64, "optimizer": {"name": "adam", "learning_rate": 1e-3},
         "augmentation": CIFAR_AUGMENT})


def allconv() -> Dict:
    """All-CNN-C: strided convolutions instead of pooling, global average pooling head."""
    g = Graph()
    g.add("input", "Input", {"shape": [32, 32, 3]})
    g.add("drop_in", "Dropout", {"rate": 0.2})
    layers = ((1, 96, 3, 1), (2, 96, 3, 1), (3, 96, 3, 2), (4, 192, 3, 1), (5, 192, 3, 1),
              (6, 192, 3, 2))
    for i, filters, kernel, strides in layers:
        g.add(f"conv{i}", "Conv2D", {"filters": filters, "kernel_size": kernel,
                                     "strides": strides,
                                     "padding": "same" if strides == 1 else 1, **RELU})
        if strides == 2:
            g.add(f"drop{i}", "Dropout", {"rate": 0.5})
    g.add("conv7", "Conv2D", {"filters": 192, "kernel_size": 3, **RELU})
    g.add("conv8", "Conv2D", {"filters": 192, "kernel_size": 1, **RELU})
    g.add("avg_pool", "GlobalAveragePooling2D")
    g.add("output", "Output", {"units": 10, "activation": "softmax"})
    return preset(
        "allconv", "All-CNN-C", "All-Convolutional Net (All-CNN-C): 3x3 convolutions of "
        "96 and 192 filters, stride-2 convolutions instead of max-pooling, dropout, global "
        "average pooling over 6x6; 1,369,738 parameters. The paper's last 1x1 conv to 10 "
        "maps before the pooling is written as the Output after it (the same linear map).",
        "J. T. Springenberg, A. Dosovitskiy, T. Brox, M. Riedmiller. Striving for "
        "simplicity: the all convolutional net. ICLR 2015 workshop.",
        [32, 32, 3], 10, g.model(), "All-CNN-C: a network of convolutions only.",
        {**sgd(0.01, 30, 64, 1e-3, [20, 25]), "augmentation": CIFAR_AUGMENT})


# ---------------------------------------------------------------------------------- main

def all_presets() -> dict[str, Dict]:
    """Every generated preset by name (``default`` is not generated)."""
    makers: list[Callable[[], Dict]] = [mlp128, lenet5, alexnet, googlenet, vgg_cifar,
                                        allconv]
    makers += [lambda n=n: vgg(n) for n in VGG_CONFIGS]
    makers += [lambda n=n: resnet(n) for n in RESNETS]
    makers += [lambda n=n: resnet_cifar(n) for n in CIFAR_RESNETS]
    presets = [make() for make in makers]
    return {p["name"]: p for p in presets}


def render(data: Dict) -> str:
    """Return the file text: two-space indented JSON with sorted keys, like default.json."""
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) every generated preset file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    parser.add_argument("--out", type=Path, default=PRESETS_DIR, help="output folder")
    args = parser.parse_args(argv)
    stale = []
    for name, data in sorted(all_presets().items()):
        path = args.out / f"{name}.json"
        text = render(data)
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path.name)
        if not args.check:
            path.write_text(text, encoding="utf-8")
    verb = "out of date" if args.check else "written"
    print(f"{len(stale)} preset file(s) {verb}" + (f": {', '.join(stale)}" if stale else ""))
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
