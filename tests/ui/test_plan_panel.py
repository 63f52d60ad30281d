"""The Plan panel next to the Summary: the estimate follows the document; Measure times steps.

A real main window offscreen on a tiny shapes experiment; the measurement is
the real micro-benchmark (10-20 training steps) in the panel's worker thread.
"""

import dataclasses

from builder_helpers import DialogRecorder, make_window

from cnnlab.spec import experiment_from_dict


def tiny_experiment():
    """Input 8x8x1, Conv2D(4), Flatten, Output(3) on 60 shapes images, batch 10, 1 epoch."""
    nodes = [("input", "Input", {"shape": [8, 8, 1]}),
             ("conv", "Conv2D", {"filters": 4, "kernel_size": 3, "activation": "relu"}),
             ("flat", "Flatten", {}), ("output", "Output", {"units": 3})]
    return experiment_from_dict({
        "schema_version": 1, "name": "tiny",
        "model": {"nodes": [{"id": i, "type": t, "params": p} for i, t, p in nodes],
                  "edges": [{"src": a[0], "dst": b[0]} for a, b in zip(nodes, nodes[1:])]},
        "data": {"source": "shapes", "shapes": {"image_size": 8, "channels": 1,
                                                "classes": ["circle", "square", "cross"],
                                                "samples": 60}},
        "training": {"batch_size": 10, "epochs": 1}})


def test_plan_panel_follows_edits_and_measures(qtbot, monkeypatch):
    DialogRecorder().install(monkeypatch)
    window = make_window(qtbot, tiny_experiment())
    panel = window.plan_panel
    assert window.docks["plan"].windowTitle() == "Plan"
    qtbot.waitUntil(lambda: panel.estimate is not None, timeout=5000)
    before = panel.estimate
    assert "batch size 10" in panel.heading.text()
    assert panel.values["total"].text() and panel.largest > 10
    exp = window.doc.experiment
    bigger = dataclasses.replace(exp, training=dataclasses.replace(exp.training, batch_size=20))
    window.doc.apply(bigger, "batch 20")
    qtbot.waitUntil(lambda: panel.estimate is not before and "batch size 20"
                    in panel.heading.text(), timeout=5000)
    assert panel.estimate.activations == 2 * before.activations
    panel.measure_button.click()
    assert not panel.measure_button.isEnabled()
    qtbot.waitUntil(lambda: panel.measure_button.isEnabled(), timeout=120_000)
    assert panel.shutdown()
    assert panel.time_label.text().startswith("Measured on CPU"), panel.time_label.text()
    assert "per step" in panel.time_label.text() and panel.warnings_label.text() == ""
