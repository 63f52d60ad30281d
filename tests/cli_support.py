"""Run `cnnlab` in this process, as the tests of the CLI's user path do."""

import contextlib
import io
import json

from cnnlab.cli import main


def run_cli(capsys, *args):
    """``cnnlab ARGS``: (exit status, stdout, stderr)."""
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def train_run(spec, ws):
    """Train ``spec`` with `cnnlab train --json`; return the run id it prints."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["train", str(spec), "--workspace", str(ws), "--json"]) == 0
    return json.loads(printed.getvalue().strip().splitlines()[-1])["run_id"]
