"""``harnessgym serve``: the MCP control plane over the library API.

Tools start, follow, cancel and resume runs, step single iterations, score workspaces, manage artifacts, and
run plain-against-harnessed comparisons in the background; resources expose run summaries, iteration records
and transcripts. It must never touch paths outside the allowed roots, never accept an HTTP request without the
token once one is set, and never keep run state only in memory: the journal on disk is the record, this
package only adds what a live process knows.
"""

from harnessgym.serve._server import build_server, run_server, serve_async
from harnessgym.serve._settings import LOOPBACK_HOSTS, ServeSettings, default_state_dir

__all__ = ["LOOPBACK_HOSTS", "ServeSettings", "build_server", "default_state_dir", "run_server", "serve_async"]
