"""The palette's modules are the presets' modules: one definition each."""

import json
from pathlib import Path

import pytest

from cnnlab.analysis import analyze
from cnnlab.spec import model_from_dict
from cnnlab.spec.module_library import TEMPLATES, template, template_names

PRESETS = Path(__file__).resolve().parents[2] / "presets"
SAME = {  # palette name: (preset file, the preset's module name)
    "residual": ("resnet18", "basic"), "residual_down": ("resnet18", "basic_proj"),
    "bottleneck": ("resnet50", "bottleneck"),
    "bottleneck_proj": ("resnet50", "bottleneck_proj"),
    "inception": ("googlenet", "inception"),
}


@pytest.mark.parametrize("name", sorted(SAME))
def test_each_palette_module_is_the_one_the_presets_use(name):
    preset, module = SAME[name]
    data = json.loads((PRESETS / f"{preset}.json").read_text(encoding="utf-8"))
    assert data["experiment"]["model"]["modules"][module] == TEMPLATES[name]
    assert template(name).description == TEMPLATES[name]["description"]


def test_every_palette_module_expands_and_analyses():
    assert template_names() == list(SAME)  # palette order
    for name in template_names():
        params = {"filters": 16, "out_filters": 64} if "bottleneck" in name else {}
        model = model_from_dict({
            "nodes": [{"id": "x", "type": "Input", "params": {"shape": [16, 16, 64]}},
                      {"id": "m", "type": name, "params": params}],
            "edges": [{"src": "x", "dst": "m"}], "modules": {name: TEMPLATES[name]}}, "t")
        result = analyze(model)
        assert not [p for p in result.problems if p.severity == "error"], name
        assert result.layers[-1].id.startswith("m_"), name
