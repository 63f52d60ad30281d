"""Acceptance matrix, schedules: each learning-rate schedule with and without warm-up,
trained for 3 epochs through ``cnnlab train``; the logged ``lr`` of every epoch
must be the schedule's value written out from the README."""

from __future__ import annotations

import math

import numpy as np
import pytest


def section(part: str, /, **fields):
    """An edit that sets fields of ``training.<part>``."""
    return lambda d: d["training"][part].update(fields)


BASE_LR = 0.01
EPOCHS = 3
SCHEDULES = {
    "constant": {},
    "step": {"boundaries": [1, 2], "gamma": 0.5},
    "exponential": {"decay_rate": 0.5},
    "cosine": {"alpha": 0.1},
    "cosine_restarts": {"first_decay_epochs": 1.5, "t_mul": 1.0, "m_mul": 0.5, "alpha": 0.0},
    "plateau": {"factor": 0.5, "patience": 0, "min_lr": 1e-9},
}


def _cosine(t: float, total: float, alpha: float) -> float:
    return BASE_LR * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * min(t, total) / total))
                      + alpha)


def expected_rate(name: str, params: dict, step: int, spe: int, warm: int) -> float:
    """The rate the schedule gives batch ``step`` (0-based), written out from the README.

    Step boundaries are absolute epochs; the other durations start when the
    warm-up ends. The logged ``lr`` of epoch e is the rate after it, at batch
    ``(e + 1) * spe`` (where the optimizer's counter stands; Keras's convention).
    """
    if step < warm:  # linear from 0 to the rate the schedule has when the warm-up ends
        return expected_rate(name, params, warm, spe, warm) * step / warm
    t = step - warm
    if name == "step":
        epoch = step / spe
        return BASE_LR * params["gamma"] ** sum(1 for b in params["boundaries"] if epoch >= b)
    if name == "exponential":
        return BASE_LR * params["decay_rate"] ** (t / spe)
    if name == "cosine":
        return _cosine(t, EPOCHS * spe - warm, params["alpha"])
    if name == "cosine_restarts":
        first = round(params["first_decay_epochs"] * spe)
        cycle, within = divmod(t, first)
        return params["m_mul"] ** cycle * _cosine(within, first, params["alpha"])
    return BASE_LR


SCHEDULE_CASES = [pytest.param(name, warmup, id=f"{name}-{'warmup' if warmup else 'no_warmup'}")
                  for name in SCHEDULES for warmup in (0.0, 1.5)]


@pytest.mark.parametrize("name, warmup", SCHEDULE_CASES)
def test_logged_learning_rate_follows_the_schedule(lab, name, warmup):
    params = SCHEDULES[name]
    rate = 1e-7 if name == "plateau" else BASE_LR  # plateau: a rate too small to improve
    edits = [section("optimizer", learning_rate=rate),
             lambda d: d["training"].update(epochs=EPOCHS),
             section("schedule", name=name, warmup_epochs=warmup, **params)]
    if name == "plateau" and warmup:
        edits.append(section("schedule", patience=10))  # warm-up only: no reduction
    run = lab.train(lab.spec(*edits))
    assert run.ok, run.describe()
    logged = run.metrics["lr"]
    spe = run.steps_per_epoch()
    warm = round(warmup * spe)
    if name == "plateau":
        _check_plateau(logged, rate, warm, spe)
        return
    expected = [expected_rate(name, params, (e + 1) * spe, spe, warm) for e in range(EPOCHS)]
    assert np.allclose(logged, expected, rtol=1e-5, atol=1e-9), (logged, expected)


def _check_plateau(logged: list[float], rate: float, warm: int, spe: int) -> None:
    if warm:
        # the warm-up ramps the rate linearly, then holds it (patience 10: no reduction)
        assert np.allclose(logged, [rate * spe / warm, rate, rate], rtol=1e-5), logged
        return
    # val_loss cannot improve by min_delta at this rate: halved after every epoch but the first
    assert np.allclose(logged, [rate, rate * 0.5, rate * 0.25], rtol=1e-5), logged


