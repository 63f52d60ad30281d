"""``python -m cnnlab.ui`` opens the lab's window."""

import sys

from cnnlab.ui.app import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
