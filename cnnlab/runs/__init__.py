"""The run store: every training run's record, spec snapshot, metrics and folder.

Modules:
    workspace: where a workspace is, run ids, the run folder's documents.
    index: the SQLite index (runs, spec snapshots, per-epoch metrics).
    records: what the index knows of one run, and filters over lists of them.
    reader: the reading half of the store (records, metrics, specs, folders).
    store: :class:`RunStore`, the store a program opens on a workspace.
    liveness: claims of a run by one process; a dead run told from a live one.
    recovery: what killed processes left behind, and rebuilding a lost index.
"""
