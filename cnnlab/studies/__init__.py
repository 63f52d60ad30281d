"""Studies: many runs of one experiment, sampled, pruned and compared with Optuna.

Modules: (being built)
"""

from cnnlab.lazy import lazy_exports

# Public name -> "module:attribute", loaded on first use (see cnnlab.lazy).
_LAZY: dict[str, str] = {}

__getattr__, __dir__ = lazy_exports(globals(), _LAZY)
