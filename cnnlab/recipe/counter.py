"""The optimizer's batch counter, the one place that reaches Keras's private counter.

Every Keras optimizer has one counter variable: it counts the batches the
optimizer has seen, and the learning-rate schedule is evaluated at it. The
public ``optimizer.iterations`` is that variable only without gradient
accumulation; with N accumulation steps it is the counter floor-divided by
N, a computed tensor that cannot be assigned, and Keras has no public way to
reach the variable itself. :func:`counter_variable` does (Keras's
``optimizer._iterations``); ``tests/core/test_keras_internals.py`` fails
when a Keras release changes what it relies on.
"""

from __future__ import annotations

from typing import Any


def counter_variable(optimizer: Any) -> Any:
    """Return the optimizer's batch counter: the variable its schedule is evaluated at.

    Args:
        optimizer: A Keras optimizer.

    Returns:
        The integer ``keras.Variable`` Keras increments once per applied batch.

    """
    # Private: Keras keeps the counter in ``_iterations`` and exposes it only through
    # ``iterations``, which under gradient accumulation is ``_iterations // N`` (read-only).
    return optimizer._iterations
