"""``python -m scripted_model`` (with ``tests`` on the path): the same as running ``server.py``."""

from __future__ import annotations

import sys

from .server import main

sys.exit(main())
