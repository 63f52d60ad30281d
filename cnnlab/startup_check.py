"""Can the window start here? Checked before Qt loads, so that Qt cannot abort.

On Linux Qt draws through its ``xcb`` platform plugin, which needs an X
display and system libraries that ``pip install`` cannot bring. When either
is missing Qt aborts with "Could not load the Qt platform plugin xcb... This
application failed to start". :func:`window_start_problem` finds both first
and returns one line naming what is missing and how to get it. It lives in
the core and imports no Qt, so ``cnnlab`` runs it before any Qt library is
loaded (PySide6's own modules need some of the same libraries).

What is checked, and how (no Qt is imported here):

- only when Qt would use ``xcb``: Linux, ``QT_QPA_PLATFORM`` unset or naming
  ``xcb`` first; with ``QT_QPA_PLATFORM`` unset and ``WAYLAND_DISPLAY`` set
  Qt may draw through Wayland, so nothing is refused;
- a library is present when the dynamic loader loads it by its soname
  (``ctypes.CDLL``, the same search Qt's loader makes). The list is what
  ``ldd`` shows for PySide6 6.12's ``Qt/plugins/platforms/libqxcb.so`` and the
  Qt libraries it loads, less the C/C++ run-time every Python has;
- a display is reachable when its socket accepts a connection: ``:N`` or
  ``unix:N`` is ``/tmp/.X11-unix/XN`` (or Linux's abstract socket of that
  name), ``HOST:N`` is TCP port 6000+N on HOST (``ssh -X`` gives
  ``localhost:10``). Authorisation is not checked: Qt reports that readably.

:func:`pyside_build_problem` refuses a PySide6 build known to crash the window.
PySide6 6.12.0 ships a stable-ABI build whose ``return None`` paths were
compiled with Python 3.12 headers, where ``None`` needs no reference count
(CPython gh-134989). Loaded by Python 3.11, every void Qt method called from
Python (``QLabel.setText``, ``moveBy``...) drops one reference to ``None``, and
after a few thousand calls the interpreter aborts ("Fatal Python error:
none_dealloc"). The project's pin excludes that build; a probe in the UI
(:func:`cnnlab.ui.app.drops_none_references`) tells whether it is installed
anyway, and this module words the refusal.
"""

from __future__ import annotations

import ctypes
import os
import socket
import sys
from collections.abc import Mapping, Sequence
from typing import NamedTuple

HEADLESS_HINT = "cnnlab train/inspect/export --help"
PYSIDE_FIX = 'pip install "PySide6-Essentials<6.12"'


class SystemLibrary(NamedTuple):
    """A shared library the window needs, and the package that has it per distribution."""

    soname: str
    debian: str
    fedora: str
    arch: str


XCB_LIBRARIES: tuple[SystemLibrary, ...] = tuple(SystemLibrary(*row) for row in (
    ("libxcb-cursor.so.0", "libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor"),
    ("libxcb-icccm.so.4", "libxcb-icccm4", "xcb-util-wm", "xcb-util-wm"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1", "xcb-util-keysyms", "xcb-util-keysyms"),
    ("libxcb-image.so.0", "libxcb-image0", "xcb-util-image", "xcb-util-image"),
    ("libxcb-render-util.so.0", "libxcb-render-util0", "xcb-util-renderutil",
     "xcb-util-renderutil"),
    ("libxcb-util.so.1", "libxcb-util1", "xcb-util", "xcb-util"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11"),
    ("libxkbcommon.so.0", "libxkbcommon0", "libxkbcommon", "libxkbcommon"),
    ("libxcb-randr.so.0", "libxcb-randr0", "libxcb", "libxcb"),
    ("libxcb-render.so.0", "libxcb-render0", "libxcb", "libxcb"),
    ("libxcb-shape.so.0", "libxcb-shape0", "libxcb", "libxcb"),
    ("libxcb-shm.so.0", "libxcb-shm0", "libxcb", "libxcb"),
    ("libxcb-sync.so.1", "libxcb-sync1", "libxcb", "libxcb"),
    ("libxcb-xfixes.so.0", "libxcb-xfixes0", "libxcb", "libxcb"),
    ("libxcb-xkb.so.1", "libxcb-xkb1", "libxcb", "libxcb"),
    ("libxcb.so.1", "libxcb1", "libxcb", "libxcb"),
    ("libX11-xcb.so.1", "libx11-xcb1", "libX11-xcb", "libx11"),
    ("libX11.so.6", "libx11-6", "libX11", "libx11"),
    ("libGL.so.1", "libgl1", "libglvnd-glx", "libglvnd"),
    ("libEGL.so.1", "libegl1", "libglvnd-egl", "libglvnd"),
    ("libfontconfig.so.1", "libfontconfig1", "fontconfig", "fontconfig"),
    ("libfreetype.so.6", "libfreetype6", "freetype", "freetype2"),
    ("libglib-2.0.so.0", "libglib2.0-0", "glib2", "glib2"),
    ("libdbus-1.so.3", "libdbus-1-3", "dbus-libs", "dbus"),
))

# distribution family -> (label, install command, SystemLibrary field with the package)
INSTALLERS = {
    "debian": ("Debian/Ubuntu", "sudo apt-get install", "debian"),
    "fedora": ("Fedora", "sudo dnf install", "fedora"),
    "arch": ("Arch", "sudo pacman -S", "arch"),
}


def qt_would_use_xcb(environ: Mapping[str, str], platform: str = sys.platform) -> bool:
    """True when Qt would draw through its xcb plugin (and so needs X and its libraries)."""
    if not platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        return chosen.split(";")[0].split(":")[0].strip() == "xcb"
    return not environ.get("WAYLAND_DISPLAY")


def missing_libraries(libraries: Sequence[SystemLibrary]) -> list[SystemLibrary]:
    """The libraries the dynamic loader cannot load by soname."""
    missing = []
    for library in libraries:
        try:
            ctypes.CDLL(library.soname)
        except OSError:
            missing.append(library)
    return missing


def distribution_family(os_release: str = "/etc/os-release") -> str | None:
    """``debian``, ``fedora`` or ``arch`` from os-release's ID and ID_LIKE; None if unknown."""
    try:
        with open(os_release, encoding="utf-8") as file:
            text = file.read(64 * 1024)
    except OSError:
        return None
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    ids = " ".join(fields.get(key, "").strip().strip("\"'") for key in ("ID", "ID_LIKE"))
    for family, names in (("debian", ("debian", "ubuntu")), ("fedora", ("fedora", "rhel")),
                          ("arch", ("arch",))):
        if any(name in ids.split() for name in names):
            return family
    return None


def library_message(missing: Sequence[SystemLibrary], family: str | None) -> str:
    """One line naming the missing libraries and the install command(s)."""
    families = [family] if family in INSTALLERS else list(INSTALLERS)
    commands = []
    for name in families:
        label, command, field = INSTALLERS[name]
        packages = list(dict.fromkeys(getattr(library, field) for library in missing))
        commands.append(f"{label}: {command} {' '.join(packages)}")
    sonames = " ".join(library.soname for library in missing)
    return (f"the window needs the system libraries {sonames} ({'; '.join(commands)}); "
            f"the headless commands work without them: cnnlab --help")


def display_message(display: str) -> str:
    """One line saying there is no display, pointing to the headless commands."""
    why = "DISPLAY is not set" if not display else f"DISPLAY={display} cannot be reached"
    return (f"no display ({why}); run the window on a desktop, or use the headless "
            f"commands: {HEADLESS_HINT}")


def display_reachable(display: str, timeout: float = 2.0) -> bool:
    """True when the X display named ``display`` accepts a connection on its socket."""
    host, _, rest = display.rpartition(":")
    number = rest.split(".")[0]
    if not number.isdigit():
        return False
    host = host.strip("[]")
    if host in ("", "unix"):
        path = f"/tmp/.X11-unix/X{int(number)}"
        return any(_accepts(socket.AF_UNIX, address, timeout) for address in (path, "\0" + path))
    if host.startswith("/"):  # a socket path (macOS launchd style)
        return _accepts(socket.AF_UNIX, display, timeout)
    try:
        with socket.create_connection((host, 6000 + int(number)), timeout=timeout):
            return True
    except OSError:
        return False


def _accepts(family: int, address: str, timeout: float) -> bool:
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except OSError:
            return False
    return True


def pyside_build_problem(drops_none_references: bool, version: str) -> str | None:
    """One line refusing a PySide6 build that loses references to ``None``; None if sound.

    Args:
        drops_none_references: what the UI's probe found (a void Qt call lost a
            reference to ``None``).
        version: the installed PySide6 version, for the message.
    """
    if not drops_none_references:
        return None
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    return (f"PySide6 {version} is a build that crashes the window on Python {python} "
            f"(it loses references to None); install a sound one: {PYSIDE_FIX}")


def window_start_problem(environ: Mapping[str, str] | None = None,
                         libraries: Sequence[SystemLibrary] | None = None,
                         family: str | None = None) -> str | None:
    """Why the window cannot start here, in one line; None when it can (or Qt is not xcb).

    Args:
        environ: the environment to judge (default: ``os.environ``).
        libraries: the libraries to check (default: :data:`XCB_LIBRARIES`).
        family: the distribution family for the install command (default: os-release).
    """
    environ = os.environ if environ is None else environ
    if not qt_would_use_xcb(environ):
        return None
    missing = missing_libraries(XCB_LIBRARIES if libraries is None else libraries)
    if missing:
        return library_message(missing, family or distribution_family())
    display = environ.get("DISPLAY", "").strip()
    if not display or not display_reachable(display):
        return display_message(display)
    return None
