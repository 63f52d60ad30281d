"""``python -m cnnlab.cli``: the same as the ``cnnlab`` command."""

import sys

from cnnlab.cli import main

sys.exit(main())
