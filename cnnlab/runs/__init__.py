"""The run store: every training run's record, spec snapshot, metrics and folder.

Programs open :class:`cnnlab.runs.store.RunStore`; the other modules are its parts.

Modules:
    store: :class:`RunStore`, the one object a program opens on a workspace.
    reader: reading runs (records, metrics, specs, folders); RunStore's base.
    lifecycle: creating a run (claimed), claiming, releasing and deleting runs.
    recording: status, heartbeats, epochs, test results, names and tags of a run.
    recovery: what killed processes left behind, and rebuilding a lost index.
    index: the SQLite index file (schema, migrations, connections, writers).
    rows: what a run, an epoch or a run folder becomes in the index, and back.
    records: what the index knows of one run, and filters over lists of them.
    liveness: claims of a run by one process; a dead run told from a live one.
    workspace: where a workspace is (the user data folder), run ids, folder documents.
"""

from cnnlab.lazy import lazy_exports

# Public name -> "module:attribute", loaded on first use (see cnnlab.lazy).
_LAZY = {
    "RunStore": "cnnlab.runs.store:RunStore",
    "open_store": "cnnlab.runs.store:open_store",
    "home_override": "cnnlab.runs.workspace:home_override",
    "matches": "cnnlab.runs.records:matches",
    "resolve_workspace": "cnnlab.runs.workspace:resolve_workspace",
    "tree_order": "cnnlab.runs.records:tree_order",
    "user_data_dir": "cnnlab.runs.workspace:user_data_dir",
    "workspace_writable": "cnnlab.runs.workspace:workspace_writable",
    "read_samples": "cnnlab.runs.samples:read_samples",
    "SampleTable": "cnnlab.runs.samples:SampleTable",
    "SampleRow": "cnnlab.runs.samples:SampleRow",
    "SamplesError": "cnnlab.runs.samples_format:SamplesError",
    "SAMPLE_SORTS": "cnnlab.runs.samples:SORTS",
}

__getattr__, __dir__ = lazy_exports(globals(), _LAZY)
