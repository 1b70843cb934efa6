"""The version every part reports (MCP ``serverInfo``/``clientInfo``, ``harnessgym --version``, ``serve``).

Read once from the installed metadata of the ``harnessgym`` distribution, which ships all three packages, so
the number is written in one place only: ``pyproject.toml``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("harnessgym")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"
