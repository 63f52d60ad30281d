"""Studies: many runs of one experiment, sampled, pruned and compared with Optuna.

Modules:
    space, paths: search spaces (``loguniform(a,b)`` ...) and experiment-file paths.
    studyfile: STUDY.json: define (checked against the spec), load, a trial's experiment.
    storage: Optuna's RDB storage (SQLite in the workspace, or a shared URL), samplers, pruner.
    trial, engine: one trial as one lab run; running a study until its budget is spent.
    workers: local worker processes on one storage.
    events, summary: progress events; trials, best trial and fANOVA importances.
"""

from cnnlab.lazy import lazy_exports

# Public name -> "module:attribute", loaded on first use (see cnnlab.lazy).
_LAZY: dict[str, str] = {
    "Space": "cnnlab.studies.space:Space",
    "StudyError": "cnnlab.studies.studyfile:StudyError",
    "StudyFile": "cnnlab.studies.studyfile:StudyFile",
    "TrialEnded": "cnnlab.studies.events:TrialEnded",
    "TrialEpoch": "cnnlab.studies.events:TrialEpoch",
    "TrialStarted": "cnnlab.studies.events:TrialStarted",
    "lecture_names": "cnnlab.studies.lecture:lecture_names",
    "lecture_table": "cnnlab.studies.lecture:lecture_table",
    "lecture_variants": "cnnlab.studies.lecture:lecture_variants",
    "load_study": "cnnlab.studies.studyfile:load_study",
    "new_study": "cnnlab.studies.studyfile:new_study",
    "parse_space": "cnnlab.studies.space:parse_space",
    "run_study": "cnnlab.studies.engine:run_study",
    "study_summary": "cnnlab.studies.summary:study_summary",
    "table_lines": "cnnlab.studies.summary:table_lines",
    "trial_experiment": "cnnlab.studies.studyfile:trial_experiment",
}

__getattr__, __dir__ = lazy_exports(globals(), _LAZY)
