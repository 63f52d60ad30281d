"""Seeded fuzzing of experiment files through ``cnnlab validate`` and the build step.

Valid experiments (the default preset, ResNet-20 with its modules and
augmentation, a small kitchen-sink recipe) are mutated: a value swapped for a
wrong type, a huge or non-finite number, a list or a deep nesting; a key
dropped or added; a node duplicated; a block type swapped. ``validate`` must
answer ``ok`` or errors that name a path or a block, never a crash; a sample
of the mutants it accepts must build in Keras as ``train`` builds them.
"""

import copy
import json
import os
import re

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from cnnlab.analysis import analyze  # noqa: E402
from cnnlab.cli import main  # noqa: E402
from cnnlab.presetlib import load_preset  # noqa: E402
from cnnlab.spec import load_experiment  # noqa: E402
from cnnlab.spec.load import TOP_KEYS  # noqa: E402


def _kitchen_sink() -> dict:
    exp = load_preset("default").to_dict()
    exp["model"]["nodes"][1]["params"].update(padding=1, kernel_l2=1e-4)
    exp["training"]["schedule"].update(name="step", boundaries=[2, 4], warmup_epochs=1)
    exp["training"]["augmentation"]["layers"] = [{"type": "RandomFlip", "params": {}}]
    exp["training"]["transfer"]["layer_multipliers"] = {"conv1": 0.5}
    return exp


BASES = [load_preset("default").to_dict(), load_preset("resnet20").to_dict(), _kitchen_sink()]
HOSTILE = [None, True, False, "", "x", "@in", "$filters", "Conv2D", "same", [], {}, [1],
           ["Conv2D"], {"a": 1}, -1, 0, 1, 3, 2**31, 10**20, 10**300, 0.5, -0.0, 1e308,
           -1e308, float("nan"), float("inf"), float("-inf"),
           json.loads("[" * 80 + "]" * 80)]
BLOCK_TYPES = ["Conv2D", "Dense", "Flatten", "Add", "Concatenate", "Input", "Output",
               "MaxPooling2D", "Opaque", "Reshape", "BatchNormalization", "basic"]
# A line of validate's stderr: a spec path, a block id, or the file, then ": ".
PATH_LINE = re.compile(r"^(?P<where>[A-Za-z@/_.][^:]*?): \S")
MODEL_LINES = ("the model has no Input block", "the model has no output block")


def _slots(value, path=()):
    """Every (path, value) inside ``value``: the places a mutation can hit."""
    out = [(path, value)]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _slots(item, path + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _slots(item, path + (i,))
    return out


def _parent(doc, path):
    for key in path[:-1]:
        doc = doc[key]
    return doc


@st.composite
def mutants(draw):
    """A base experiment with one to three mutations."""
    doc = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 3))):
        slots = [s for s in _slots(doc) if s[0]]
        path, value = draw(st.sampled_from(slots))
        parent, key = _parent(doc, path), path[-1]
        action = draw(st.sampled_from(["swap", "swap", "drop", "add", "wrap", "dup", "type"]))
        if action == "swap":
            parent[key] = copy.deepcopy(draw(st.sampled_from(HOSTILE)))
        elif action == "drop":
            del parent[key]
        elif action == "add" and isinstance(value, dict):
            value[draw(st.sampled_from(["extra", "id", "type", "params", "port"]))] = \
                copy.deepcopy(draw(st.sampled_from(HOSTILE)))
        elif action == "wrap":
            parent[key] = [value]
        elif action == "dup" and isinstance(value, list) and value:
            value.append(copy.deepcopy(value[draw(st.integers(0, len(value) - 1))]))
        elif action == "type" and key == "type":
            parent[key] = draw(st.sampled_from(BLOCK_TYPES))
    return doc


def _crash_report(err: str) -> str:
    """The one line of an internal error and the traceback from the log it names."""
    log = err.strip().rsplit("the traceback is in ", 1)[-1]
    return err + (open(log).read() if os.path.isfile(log) else "")


def _check_line(line: str, spec) -> None:
    if line.startswith(MODEL_LINES):
        return
    match = PATH_LINE.match(line)
    assert match, f"no path in {line!r}"
    where = match.group("where")
    head = re.split(r"[.\[]", where)[0]
    assert where == str(spec) or head in TOP_KEYS or re.fullmatch(r"[A-Za-z]\w*", where), line


def test_validate_answers_every_mutant_with_a_path_and_accepted_ones_build(tmp_path, capsys):
    spec = tmp_path / "e.json"
    accepted = {}

    @settings(derandomize=True, max_examples=150, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(mutants())
    def check(doc):
        spec.write_text(json.dumps(doc, allow_nan=True))
        code = main(["validate", str(spec)])
        out = capsys.readouterr()
        assert code != 1, _crash_report(out.err)
        assert code in (0, 2) and "Traceback" not in out.err, out.err
        if code == 2:
            assert out.err.strip(), "exit 2 without a message"
            for line in out.err.strip().splitlines():
                _check_line(line, spec)
        else:
            accepted.setdefault(json.dumps(doc, sort_keys=True), doc)

    check()
    assert len(accepted) >= 5, "the mutations should leave some experiments valid"
    _build_a_sample(list(accepted.values()), tmp_path)


def _build_a_sample(docs, tmp_path) -> None:
    """What validate accepts passes train's build step (cnnlab.build.build_model)."""
    from cnnlab.build import build_model

    by_size = sorted(docs, key=lambda d: len(json.dumps(d)))
    sample = by_size[:3] + by_size[-1:]  # the smallest three and the largest
    for i, doc in enumerate(sample):
        path = tmp_path / f"accepted{i}.json"
        path.write_text(json.dumps(doc))
        exp = load_experiment(path)
        totals = analyze(exp.model, exp.training.regularization.batchnorm).totals
        assert build_model(exp).count_params() == totals.params + totals.state
