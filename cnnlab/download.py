"""Whether a file can be downloaded right now, asked quickly.

The lab works offline: before Keras starts a download (datasets, ImageNet
weights) that would hang for minutes without a network, one short probe
decides whether to try at all.
"""

from __future__ import annotations

import os
import threading
import urllib.request
from pathlib import Path


def can_reach(url: str, timeout: float = 3.0) -> bool:
    """Return True if an HTTP ``HEAD`` request for ``url`` succeeds within ``timeout`` seconds.

    A plain socket connect can succeed through a sandbox or proxy that then
    never delivers the file, so the probe asks for the file itself. Name
    resolution is bounded too: the request runs in a daemon thread that is
    abandoned when the time is up.
    """
    result: list[bool] = []

    def attempt() -> None:
        request = urllib.request.Request(url, method="HEAD")
        # A fresh opener reads the proxy settings now; urlopen's global one keeps
        # those of its first call for the life of the process.
        opener = urllib.request.build_opener()
        try:
            with opener.open(request, timeout=timeout) as response:
                result.append(response.status < 400)
        except (OSError, ValueError):  # URLError and HTTPError are OSErrors
            result.append(False)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout)
    return bool(result and result[0])


def keras_home() -> Path:
    """Return the Keras home folder: ``$KERAS_HOME``, else ``~/.keras`` (as Keras decides)."""
    if "KERAS_HOME" in os.environ:
        home = Path(os.environ["KERAS_HOME"]).expanduser()
    else:
        base = Path("~").expanduser()
        home = (base if os.access(base, os.W_OK) else Path("/tmp")) / ".keras"
    if home.exists() and not os.access(home, os.W_OK):
        return Path("/tmp/.keras")  # keras.utils.get_file falls back to this
    return home
