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
