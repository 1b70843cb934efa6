"""The ``harnessgym`` console script: ``mcp call`` to a running host is answered before click is imported
(:mod:`harnessgym.commands._quick`); everything else goes to the click command line."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    if sys.argv[1:3] == ["mcp", "call"]:
        from harnessgym.commands._quick import try_quick_call

        code = try_quick_call(sys.argv[3:])
        if code is not None:
            sys.stdout.flush()
            raise SystemExit(code)
    from harnessgym.cli import main as cli_main

    cli_main()
