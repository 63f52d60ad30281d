"""`cnnlab` where the window cannot start: one line and exit 2 before Qt can abort.

Each test runs the real command in a fresh process with Qt's platform left to
its default (xcb on Linux), as a student's terminal would.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the xcb start-up check is for Linux")

NO_DISPLAY_HINT = ("run the window on a desktop, or use the headless commands: "
                   "cnnlab train/inspect/export --help")


def _run(tmp_path, code=None, **env_changes):
    env = {key: value for key, value in os.environ.items()
           if key not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "DISPLAY")}
    env.update(env_changes, CNNLAB_HOME=str(tmp_path / "ws"))
    command = ([sys.executable, "-c", code] if code
               else [sys.executable, "-m", "cnnlab.cli", "--workspace", str(tmp_path / "ws")])
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)


def _libraries_present():
    """Asked in a fresh process: core tests keep Qt out of their own."""
    code = ("import sys; from cnnlab.startup_check import XCB_LIBRARIES, missing_libraries; "
            "sys.exit(1 if missing_libraries(XCB_LIBRARIES) else 0)")
    return subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


needs_libraries = pytest.mark.skipif(
    not _libraries_present(), reason="this machine lacks Qt's xcb libraries (that message "
    "is tested with a named soname below)")


def test_the_check_loads_no_qt():
    code = "import sys, cnnlab.startup_check; print(sorted(set(sys.modules) & {'PySide6'}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip() == "[]", done.stderr


def _one_error_line(done):
    lines = done.stderr.splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and lines[0].startswith("cnnlab: error: "), done.stderr
    return lines[0]


@needs_libraries
def test_no_display_set_is_one_line_and_exit_2(tmp_path):
    line = _one_error_line(_run(tmp_path))
    assert line == f"cnnlab: error: no display (DISPLAY is not set); {NO_DISPLAY_HINT}"
    assert not (tmp_path / "ws").exists()  # refused before anything was set up


@needs_libraries
def test_unreachable_display_is_one_line_and_exit_2(tmp_path):
    assert not Path("/tmp/.X11-unix/X987").exists()
    line = _one_error_line(_run(tmp_path, DISPLAY=":987"))
    assert line == f"cnnlab: error: no display (DISPLAY=:987 cannot be reached); {NO_DISPLAY_HINT}"


@needs_libraries
def test_python_m_cnnlab_ui_without_display_is_one_line_too(tmp_path):
    code = "import runpy; runpy.run_module('cnnlab.ui', run_name='__main__')"
    line = _one_error_line(_run(tmp_path, code=code))
    assert line == f"cnnlab: error: no display (DISPLAY is not set); {NO_DISPLAY_HINT}"


def test_missing_library_is_named_with_the_install_command(tmp_path):
    code = ("import sys; import cnnlab.startup_check as check; "
            "check.XCB_LIBRARIES += (check.SystemLibrary('libcnnlab-absent.so.7', "
            "'libcnnlab-absent7', 'cnnlab-absent', 'cnnlab-absent-arch'),); "
            "from cnnlab.cli import main; sys.exit(main(['--workspace', sys.argv[1]]))")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "ws")],
                          capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"})
    line = _one_error_line(done)
    assert line.startswith("cnnlab: error: the window needs the system libraries ")
    assert "libcnnlab-absent.so.7" in line
    assert ("sudo apt-get install libcnnlab-absent7" in line
            or "sudo dnf install cnnlab-absent" in line
            or "sudo pacman -S cnnlab-absent-arch" in line)
    assert line.endswith("the headless commands work without them: cnnlab --help")


def test_offscreen_platform_is_not_checked(tmp_path):
    """QT_QPA_PLATFORM=offscreen needs no display: ``cnnlab --workspace D`` opens the window
    (it was 'invalid choice' before) and the probe quits at once."""
    done = _run(tmp_path, code="import sys; from cnnlab.cli import main; "
                f"sys.exit(main(['--workspace', {str(tmp_path / 'ws')!r}, '--startup-probe', "
                "'--no-tensorflow']))", QT_QPA_PLATFORM="offscreen")
    assert done.returncode == 0, done.stderr
    assert "first_paint" in done.stdout and "no display" not in done.stderr


def _library_file(soname):
    for folder in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/usr/lib64",
                   "/usr/lib/aarch64-linux-gnu", "/usr/lib"):
        if (Path(folder) / soname).exists():
            return (Path(folder) / soname).resolve()
    return None


def _can_mask_files():
    try:
        return subprocess.run(["unshare", "-rm", "true"], capture_output=True,
                              timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@needs_libraries
@pytest.mark.skipif(not _can_mask_files(), reason="needs unshare with user namespaces")
def test_a_machine_without_libxcb_cursor_gets_the_install_line(tmp_path):
    """A fresh machine, made by hiding the library from this process: Qt itself would abort."""
    cursor = _library_file("libxcb-cursor.so.0")
    if cursor is None:
        pytest.skip("libxcb-cursor.so.0 is not in a standard folder")
    cnnlab = [sys.executable, "-m", "cnnlab.cli", "--workspace", str(tmp_path / "ws")]
    script = f"mount --bind /dev/null {cursor} && exec \"$@\""
    done = _run_masked(["unshare", "-rm", "sh", "-c", script, "sh", *cnnlab], DISPLAY=":987")
    line = _one_error_line(done)
    assert line.startswith("cnnlab: error: the window needs the system libraries "
                           "libxcb-cursor.so.0 (")
    assert "apt-get install libxcb-cursor0" in line or "xcb-util-cursor" in line


def _run_masked(command, **env_changes):
    env = {key: value for key, value in os.environ.items() if key != "QT_QPA_PLATFORM"}
    env.update(env_changes)
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
