"""An SDK-free MCP server that answers the handshake, then never reads its stdin again (alive, pipe filling)."""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    for line in sys.stdin.buffer:
        msg = json.loads(line)
        rid, method = msg.get("id"), msg.get("method")
        if method == "initialize":
            result = {
                "protocolVersion": msg["params"]["protocolVersion"],
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "deaf", "version": "1"},
            }
        elif method == "tools/list":
            result = {"tools": [{"name": "echo", "inputSchema": {"type": "object"}}]}
        else:
            continue
        sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": rid, "result": result}) + "\n")
        sys.stdout.flush()
        if method == "tools/list":
            break
    while True:  # deaf from now on
        time.sleep(3600)


if __name__ == "__main__":
    main()
