"""The window's start-up checks (display, Qt's system libraries, the PySide6 build) and a
quiet terminal."""

import os
import socket
import subprocess
import sys

import PySide6
import pytest

from cnnlab.startup_check import (
    PYSIDE_FIX,
    SystemLibrary,
    display_reachable,
    distribution_family,
    library_message,
    missing_libraries,
    pyside_build_problem,
    qt_would_use_xcb,
    window_start_problem,
)
from cnnlab.ui.app import drops_none_references

ABSENT = SystemLibrary("libcnnlab-absent.so.7", "libcnnlab-absent7", "cnnlab-absent",
                       "cnnlab-absent-arch")
# TensorFlow's start-up lines (on this machine: oneDNN, cuda drivers, cuInit, absl)
TF_START_UP = ("oneDNN", "cuda", "cuInit", "TF_ENABLE_ONEDNN_OPTS", "absl::InitializeLog",
               "This TensorFlow binary is optimized", "cpu_feature_guard")


def test_platform_decides_whether_xcb_is_checked():
    assert qt_would_use_xcb({}, "linux")
    assert qt_would_use_xcb({"QT_QPA_PLATFORM": "xcb"}, "linux")
    assert not qt_would_use_xcb({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert not qt_would_use_xcb({"QT_QPA_PLATFORM": "wayland;xcb"}, "linux")
    assert not qt_would_use_xcb({"WAYLAND_DISPLAY": "wayland-0"}, "linux")  # not refused
    assert not qt_would_use_xcb({}, "darwin") and not qt_would_use_xcb({}, "win32")
    assert window_start_problem({"QT_QPA_PLATFORM": "offscreen"}, libraries=[ABSENT]) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="xcb is for Linux")
def test_an_absent_soname_is_named_with_the_install_command():
    present = [SystemLibrary("libc.so.6", "libc6", "glibc", "glibc")]
    assert missing_libraries(present + [ABSENT]) == [ABSENT]
    line = window_start_problem({"DISPLAY": ":0"}, libraries=present + [ABSENT],
                                family="fedora")
    assert line == ("the window needs the system libraries libcnnlab-absent.so.7 (Fedora: "
                    "sudo dnf install cnnlab-absent); the headless commands work without "
                    "them: cnnlab --help")


def test_an_unknown_distribution_gets_every_install_command():
    line = library_message([ABSENT, ABSENT._replace(soname="libcnnlab-b.so.1")], None)
    assert "libcnnlab-absent.so.7 libcnnlab-b.so.1" in line
    assert "Debian/Ubuntu: sudo apt-get install libcnnlab-absent7;" in line  # named once
    assert "Fedora: sudo dnf install cnnlab-absent;" in line
    assert "Arch: sudo pacman -S cnnlab-absent-arch)" in line


def test_distribution_family_reads_os_release(tmp_path):
    release = tmp_path / "os-release"
    for text, family in (('ID=ubuntu\nID_LIKE=debian\n', "debian"),
                         ('ID="rocky"\nID_LIKE="rhel centos fedora"\n', "fedora"),
                         ("ID=manjaro\nID_LIKE=arch\n", "arch"), ("ID=gentoo\n", None)):
        release.write_text(text)
        assert distribution_family(str(release)) == family
    assert distribution_family(str(tmp_path / "absent")) is None


def test_a_display_is_reachable_only_when_its_socket_listens(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]
        if port < 6000:
            pytest.skip("the free port is below X's range")
        server.listen()
        assert display_reachable(f"127.0.0.1:{port - 6000}.0")
    assert not display_reachable(f"127.0.0.1:{port - 6000}", timeout=0.5)
    number = 900 + os.getpid() % 90
    if sys.platform.startswith("linux"):  # X servers also listen on an abstract socket
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
            server.bind(f"\0/tmp/.X11-unix/X{number}")
            server.listen()
            assert display_reachable(f":{number}") and display_reachable(f"unix:{number}.0")
    assert not display_reachable(f":{number}")
    assert not display_reachable("nonsense") and not display_reachable(":x")


def test_window_start_leaves_tensorflow_start_up_lines_off_the_terminal(tmp_path):
    """The real window, offscreen, until its background TensorFlow import has finished."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS")}
    env.update(QT_QPA_PLATFORM="offscreen", CNNLAB_HOME=str(tmp_path / "ws"))
    done = subprocess.run([sys.executable, "-m", "cnnlab.cli", "--workspace",
                           str(tmp_path / "ws"), "--tensorflow-probe"],
                          capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 0, done.stderr
    assert "tensorflow_loaded ready" in done.stdout, done.stdout + done.stderr
    noise = [line for line in done.stderr.splitlines()
             if any(mark in line for mark in TF_START_UP)]
    assert noise == [], done.stderr


def test_the_installed_pyside6_build_keeps_its_references_to_none():
    assert drops_none_references() is False
    assert pyside_build_problem(False, PySide6.__version__) is None


def test_a_pyside6_build_that_drops_none_is_refused_in_one_line(tmp_path):
    """The real window's start, in a fresh process, told that its probe found the defect."""
    code = ("import sys; from cnnlab.ui.app import main; "
            "sys.exit(main(['--workspace', sys.argv[1]], pyside_probe=lambda: True))")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "ws")],
                          capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    assert done.returncode == 2 and done.stdout == ""
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert done.stderr.splitlines() == [
        f"cnnlab: error: PySide6 {PySide6.__version__} is a build that crashes the window on "
        f"Python {python} (it loses references to None); install a sound one: {PYSIDE_FIX}"]
    assert PYSIDE_FIX == 'pip install "PySide6-Essentials<6.12"'
    assert not (tmp_path / "ws").exists()  # refused before anything was set up
