"""A tiny MCP server (ndjson framing) exposing one tool; --self-test checks it in-process."""
import json, sys
FRAMING = 'ndjson'
SELF_TEST = True
TOOLS = [{"name": n, "description": "reports on the workspace", "inputSchema": {"type": "object"}}
         for n in ['inspect']]

def handle(msg):
    method, mid = msg.get("method"), msg.get("id")
    if mid is None:
        return None
    if method == "initialize":
        version = msg.get("params", {}).get("protocolVersion", "2025-06-18")
        result = {"protocolVersion": version, "capabilities": {"tools": {}},
                   "serverInfo": {"name": 'probe', "version": "1"}}
    elif method == "tools/list":
        result = {"tools": TOOLS}
    elif method == "tools/call":
        args = msg.get("params", {}).get("arguments", {})
        text = json.dumps({"ok": True, "tool": msg["params"].get("name"), "arguments": args})
        result = {"content": [{"type": "text", "text": text}], "isError": False}
    elif method == "ping":
        result = {}
    else:
        return {"jsonrpc": "2.0", "id": mid, "error": {"code": -32601, "message": "unknown method"}}
    return {"jsonrpc": "2.0", "id": mid, "result": result}

def read():
    if FRAMING == "ndjson":
        line = sys.stdin.buffer.readline()
        return json.loads(line) if line.strip() else (None if not line else read())
    length = None
    while True:
        header = sys.stdin.buffer.readline()
        if not header:
            return None
        if header in (b"\r\n", b"\n"):
            break
        key, _, value = header.decode().partition(":")
        if key.strip().lower() == "content-length":
            length = int(value.strip())
    return json.loads(sys.stdin.buffer.read(length or 0))

def write(obj):
    body = json.dumps(obj).encode()
    if FRAMING == "ndjson":
        sys.stdout.buffer.write(body + b"\n")
    else:
        sys.stdout.buffer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    sys.stdout.buffer.flush()

if "--self-test" in sys.argv:
    ok = handle({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})["result"]["tools"] == TOOLS
    ok = ok and SELF_TEST != "fail"
    print(json.dumps({"self_test": "passed" if ok else "failed"}))
    sys.exit(0 if ok else 1)
while True:
    message = read()
    if message is None:
        break
    reply = handle(message)
    if reply is not None:
        write(reply)
