"""Where a study's trials live: Optuna's RDB storage, with heartbeats and retries.

By default an SQLite file ``<workspace>/studies/<name>.db``; a URL
(``postgresql://``, ``mysql://``, ``sqlite:///``) lets workers on several
machines share one study. Each worker's running trial beats every
``heartbeat`` seconds; a trial silent for three beats is stale, marked failed
by Optuna (``fail_stale_trials``) and queued again by its
``RetryFailedTrialCallback``, so a killed worker's trial is retried once,
never counted twice.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cnnlab.errors import brief
from cnnlab.studies.studyfile import StudyError, StudyFile

SCHEMES = ("sqlite", "postgresql", "mysql")
HEARTBEAT = 10  # seconds between a running trial's heartbeats
STALE_BEATS = 3  # a trial silent for this many beats is stale
MAX_RETRY = 3  # how often one trial is retried after its worker died or was stopped
FINGERPRINT = "cnnlab_definition"  # the Optuna study's user attribute: fingerprint(study)
SQLITE_TIMEOUT = 60  # seconds a worker waits for another's write lock on an SQLite study


def default_storage_url(study: StudyFile, workspace: str | Path | None = None) -> str:
    """``sqlite:///<workspace>/studies/<name>.db`` (the folder is made)."""
    from cnnlab.runs.workspace import resolve_workspace

    folder = resolve_workspace(workspace) / "studies"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / (study.name + '.db')}"


def check_url(url: str) -> str:
    """The URL if its scheme is one Optuna's RDB storage takes.

    Raises:
        StudyError: For any other text.
    """
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower() if ":" in url else ""
    if scheme not in SCHEMES or "://" not in url:
        raise StudyError(f"--storage must be a database URL (sqlite:///FILE, "
                         f"postgresql://..., mysql://...), not {brief(url)}")
    return url


def open_storage(study: StudyFile, url: str | None = None, workspace: str | Path | None = None,
                 heartbeat: int | None = None) -> Any:
    """Optuna's RDBStorage of a study, with heartbeats and retrying of stale trials.

    Raises:
        StudyError: When the database cannot be reached or its driver is missing.
    """
    import optuna
    from optuna.storages import RDBStorage

    url = check_url(url) if url else default_storage_url(study, workspace)
    beat = max(1, int(heartbeat or HEARTBEAT))
    engine = {"connect_args": {"timeout": SQLITE_TIMEOUT}} if url.startswith("sqlite") else {}
    # A failed trial's reason is in our own progress line; Optuna would add a traceback.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        with experimental_ok():
            return RDBStorage(url, engine_kwargs=engine, heartbeat_interval=beat,
                              grace_period=beat * STALE_BEATS,
                              heartbeat_stale_trial_callback=retry_callback())
    except ImportError as exc:
        raise StudyError(f"the storage {_safe(url)} needs a database driver: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy's errors, for people
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise StudyError(f"cannot open the study storage {_safe(url)}: {first}") from None


def retry_callback() -> Any:
    """Optuna's callback that queues a stale (or stopped) trial again, at most MAX_RETRY times."""
    from optuna.storages import RetryHeartbeatStaleTrialCallback

    with experimental_ok():
        return RetryHeartbeatStaleTrialCallback(MAX_RETRY)


@contextlib.contextmanager
def experimental_ok() -> Iterator[None]:
    """Inside, Optuna's notices that heartbeats and retries are "experimental" are not shown."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield


def _safe(url: str) -> str:
    """The URL without a password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://...@{rest.rsplit('@', 1)[1]}"
    return url


def make_sampler(study: StudyFile, offset: int = 0) -> Any:
    """The study's Optuna sampler, seeded with ``seed + offset``.

    A worker seeds a fresh sampler before each trial with the number of trials
    the storage holds as ``offset``: one worker repeats its choices run after
    run, and workers that share a storage do not all draw the same values.
    The grid's seed never changes (it orders the grid; the storage's visited
    and running points keep workers apart).
    """
    import optuna

    seed = study.seed + offset
    if study.sampler == "grid":
        return optuna.samplers.GridSampler(study.grid(), seed=study.seed)
    if study.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(10, max(
        2, study.trials // 3)))


def make_pruner(study: StudyFile) -> Any:
    """MedianPruner after two finished trials (``--prune``), else no pruning."""
    import optuna

    if not study.prune:
        return optuna.pruners.NopPruner()
    return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)


def optuna_study(study: StudyFile, storage: Any) -> Any:
    """Create (or load) the study in its storage.

    Raises:
        StudyError: When the storage holds a study of that name with another direction.
    """
    import optuna

    try:
        created = optuna.create_study(storage=storage, study_name=study.name,
                                      direction=study.direction, sampler=make_sampler(study),
                                      pruner=make_pruner(study), load_if_exists=True)
    except ValueError as exc:
        raise StudyError(f"study {study.name!r} in this storage does not fit the file: "
                         f"{exc}") from None
    mark = fingerprint(study)
    held = created.user_attrs.get(FINGERPRINT)
    if held is None:
        created.set_user_attr(FINGERPRINT, mark)
    elif held != mark:
        raise StudyError(f"the storage already holds a study named {study.name!r} with another "
                         f"experiment, parameters or objective; give this one another --name")
    return created


def fingerprint(study: StudyFile) -> str:
    """A digest of what makes trials comparable: experiment, parameters, variants, objective.

    The budget, the sampler, pruning and epochs may change between runs of a study.
    """
    import hashlib
    import json

    what = {"experiment": study.experiment, "objective": study.objective,
            "params": [[p.path, p.space.text] for p in study.params],
            "variants": study.variants}
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:16]


def load_optuna_study(study: StudyFile, storage: Any) -> Any | None:
    """The study from its storage, or None when no trial was ever run."""
    import optuna

    try:
        return optuna.load_study(study_name=study.name, storage=storage,
                                 sampler=make_sampler(study), pruner=make_pruner(study))
    except KeyError:
        return None
