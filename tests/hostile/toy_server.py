"""An SDK-free MCP server with hostile tools, in either framing. Starts in ~20 ms.

Usage: toy_server.py [--framing newline|content-length] [--ignore-sigterm] [--ignore-ping] [--banner] [--self-test]
                     [--name NAME] [--tools a,b]   (extra echo-like tools)

Tools: echo, big(size), sleep(seconds), crash, hang, env, stderr_flood(kb), spawn_child, notify_first,
garbage, bad_length, add_tool, pid, deadlock(answer) (takes the output lock for ever: alive, never answers again),
block(seconds) (sleeps on the main thread: no ping is answered meanwhile). Every other tools/call runs in its
own thread, so calls are not answered in lockstep.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

FRAMING = "newline"
NAME = "toy"
EXTRA: list[str] = []
LOCK = threading.Lock()
TOOLS = [
    "echo",
    "big",
    "sleep",
    "crash",
    "hang",
    "env",
    "stderr_flood",
    "spawn_child",
    "notify_first",
    "garbage",
    "bad_length",
    "add_tool",
    "pid",
    "deadlock",
    "block",
]


def write_raw(data: bytes) -> None:
    with LOCK:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


def send(msg: dict) -> None:
    body = json.dumps(msg).encode()
    if FRAMING == "newline":
        write_raw(body + b"\n")
    else:
        write_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)


def read_message() -> dict | None:
    stdin = sys.stdin.buffer
    while True:
        if FRAMING == "newline":
            line = stdin.readline()
            if not line:
                return None
            line = line.strip()
            if not line:
                continue
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if isinstance(msg, dict):
                return msg
            continue
        length = None
        while True:
            line = stdin.readline()
            if not line:
                return None
            line = line.strip()
            if not line:
                if length is None:
                    continue
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        body = stdin.read(length)
        try:
            return json.loads(body)
        except ValueError:
            continue


def text(value: str, is_error: bool = False) -> dict:
    return {"content": [{"type": "text", "text": value}], "isError": is_error}


def tool_list() -> list[dict]:
    schema = {"type": "object", "properties": {}, "additionalProperties": True}
    return [{"name": t, "description": f"{NAME} {t}", "inputSchema": schema} for t in TOOLS + EXTRA]


def call(rid: object, params: dict) -> None:
    name = params.get("name")
    args = params.get("arguments") or {}
    meta = params.get("_meta") or {}
    if name in ("echo", *EXTRA):
        shown = {"server": NAME, "tool": name, "args": args}
        result = text(json.dumps({**shown, "meta": meta} if meta else shown))
    elif name == "big":
        result = text("x" * int(args.get("size", 1000)))
    elif name == "sleep":
        time.sleep(float(args.get("seconds", 1)))
        result = text(f"slept {args.get('seconds')}")
    elif name == "crash":
        sys.stderr.write("toy: crashing on purpose\n")
        sys.stderr.flush()
        os._exit(3)
    elif name == "hang":
        return
    elif name == "deadlock":
        if args.get("answer"):
            send({"jsonrpc": "2.0", "id": rid, "result": text("locking up")})
        LOCK.acquire()  # never released: every later write, ping answers included, blocks for ever
        return
    elif name == "block":
        time.sleep(float(args.get("seconds", 1)))
        result = text(f"blocked {args.get('seconds')}")
    elif name == "pid":
        result = text(str(os.getpid()))
    elif name == "env":
        result = text(json.dumps(sorted(os.environ)))
    elif name == "stderr_flood":
        chunk = ("e" * 1023 + "\n").encode()
        for _ in range(int(args.get("kb", 200))):
            os.write(2, chunk)
        result = text("flooded")
    elif name == "spawn_child":
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
        result = text(str(child.pid))
    elif name == "notify_first":
        send({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": "hello"}})
        if "progressToken" in meta:
            send(
                {
                    "jsonrpc": "2.0",
                    "method": "notifications/progress",
                    "params": {"progressToken": meta["progressToken"], "progress": 1, "total": 2},
                }
            )
        result = text("notified")
    elif name == "garbage":
        write_raw(b"this is not json {{{\n")
        result = text("after garbage")
    elif name == "bad_length":
        write_raw(b"Content-Length: abc\r\n\r\n")
        result = text("after bad length")
    elif name == "add_tool":
        EXTRA.append(str(args.get("name", "added")))
        send({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
        result = text("added")
    else:
        result = text(f"Unknown tool: {name}", True)
    send({"jsonrpc": "2.0", "id": rid, "result": result})


BAD_LIST_CAPABILITIES = {"prompts": {}, "resources": {}}
"""``--bad-lists``: announce prompts and resources, then answer their lists with garbage."""


def main() -> None:
    global FRAMING, NAME
    argv = sys.argv[1:]
    if "--framing" in argv:
        FRAMING = argv[argv.index("--framing") + 1]
    if "--name" in argv:
        NAME = argv[argv.index("--name") + 1]
    if "--tools" in argv:
        EXTRA.extend(argv[argv.index("--tools") + 1].split(","))
    if "--self-test" in argv:
        print("self-test ok")
        return
    if "--fail-self-test" in argv:
        print("self-test failed", file=sys.stderr)
        sys.exit(1)
    if "--ignore-sigterm" in argv:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if "--exit-at-start" in argv:
        sys.stderr.write("toy: cannot start\n")
        sys.exit(2)
    if "--banner" in argv:
        write_raw(b"Starting toy server...\n")
    while True:
        msg = read_message()
        if msg is None:
            return
        method = msg.get("method")
        rid = msg.get("id")
        if method == "initialize":
            send(
                {
                    "jsonrpc": "2.0",
                    "id": rid,
                    "result": {
                        "protocolVersion": msg["params"].get("protocolVersion", "2025-06-18"),
                        "capabilities": {"tools": {"listChanged": True}, **BAD_LIST_CAPABILITIES}
                        if "--bad-lists" in argv
                        else {"tools": {"listChanged": True}},
                        "serverInfo": {"name": NAME, "version": "1"},
                    },
                }
            )
        elif method == "tools/list":
            send({"jsonrpc": "2.0", "id": rid, "result": {"tools": tool_list()}})
        elif method == "tools/call" and (msg.get("params") or {}).get("name") == "block":
            call(rid, msg["params"])
        elif method == "tools/call":
            threading.Thread(target=call, args=(rid, msg.get("params") or {}), daemon=True).start()
        elif method == "prompts/list" and "--bad-lists" in argv:
            send({"jsonrpc": "2.0", "id": rid, "result": {"prompts": "not a list"}})
        elif method in ("resources/list", "resources/templates/list") and "--bad-lists" in argv:
            send({"jsonrpc": "2.0", "id": rid, "result": {"resources": [{"no": "uri"}], "resourceTemplates": 7}})
        elif method == "ping":
            if "--ignore-ping" in argv:
                continue
            send({"jsonrpc": "2.0", "id": rid, "result": {}})
        elif rid is not None and method is not None:
            send({"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "Method not found"}})


if __name__ == "__main__":
    main()
