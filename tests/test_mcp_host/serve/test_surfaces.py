"""Prompts and resources of supervised servers, through the host, with the real SDK client on both ends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from hostile.helpers import HOSTILE, host_client, make_manifest, text_of
from mcp import MCPError

from mcp_host import load_manifest, summarize_calls, write_active_servers

pytestmark = pytest.mark.anyio

SURFACES = str(HOSTILE / "sdk_surfaces.py")


async def test_prompts_and_resources_of_every_server_are_offered_and_routed(tmp_path: Path) -> None:
    alpha = make_manifest(tmp_path, "alpha", "--name", "alpha", script=SURFACES, framing="newline")
    beta = make_manifest(tmp_path, "beta", "--name", "beta", script=SURFACES, framing="newline")
    tools_only = make_manifest(tmp_path, "toy", framing="newline")  # announces no prompts or resources
    write_active_servers(tmp_path, [load_manifest(d, tmp_path) for d in (alpha, beta, tools_only)])
    # Servers coming up one after another change the lists too; only a notice after the tool call counts.
    resources_changed = [anyio.Event()]

    async def on_message(message: Any) -> None:
        if type(getattr(message, "root", message)).__name__ == "ResourceListChangedNotification":
            resources_changed[-1].set()

    with anyio.fail_after(60):
        async with host_client(
            tmp_path, "--run-id", "r7", "--iteration", "2", "--phase", "attempt", message_handler=on_message
        ) as client:
            prompts = {p.name: p for p in (await client.list_prompts()).prompts}
            assert set(prompts) == {"alpha__review", "beta__review"}
            assert [a.name for a in prompts["beta__review"].arguments or []] == ["path"]
            got = await client.get_prompt("beta__review", {"path": "numerics.py"})
            assert "[beta] Review numerics.py" in got.messages[0].content.text  # type: ignore[union-attr]

            # One URI offered by two servers: the first in activation order serves it, listed once.
            resources = [str(r.uri) for r in (await client.list_resources()).resources]
            assert resources == ["docs://guide"]
            guide = await client.read_resource("docs://guide")
            assert guide.contents[0].text == "guide from alpha"  # type: ignore[union-attr]
            templates = [t.uri_template for t in (await client.list_resource_templates()).resource_templates]
            assert templates == ["notes://{topic}", "notes://{topic}"]
            note = await client.read_resource("notes://stability")
            assert note.contents[0].text == "alpha note on stability"  # type: ignore[union-attr]

            # Unknown names and URIs get MCP errors, not hangs.
            with pytest.raises(MCPError, match="Unknown prompt: gamma__review"):
                await client.get_prompt("gamma__review", {})
            with pytest.raises(MCPError, match="Resource not found") as missing:
                await client.read_resource("docs://nowhere/at/all")
            assert missing.value.error.code == -32002

            # A server adds a resource and says so: the host re-lists it, then tells the client.
            resources_changed.append(anyio.Event())
            added = await client.call_tool("beta__add_resource", {"uri": "docs://beta-only", "text": "fresh"})
            assert text_of(added) == "added"
            with anyio.fail_after(10):
                await resources_changed[-1].wait()
            assert [str(r.uri) for r in (await client.list_resources()).resources] == [
                "docs://guide",
                "docs://beta-only",
            ]
            fresh = await client.read_resource("docs://beta-only")
            assert fresh.contents[0].text == "fresh"  # type: ignore[union-attr]

    # Relayed prompt and resource requests get a telemetry line each; tool call counts stay tool calls.
    lines = [json.loads(line) for line in (tmp_path / ".harnessgym" / "mcp_calls.jsonl").read_text().splitlines()]
    relayed = [(r["method"], r["server"], r["tool_name"], r["status"]) for r in lines if r["method"] != "tools/call"]
    assert relayed == [
        ("prompts/get", "beta", "review", "completed"),
        ("resources/read", "alpha", "docs://guide", "completed"),
        ("resources/read", "alpha", "notes://stability", "completed"),
        ("resources/read", "beta", "docs://beta-only", "completed"),
    ]
    prompt = next(r for r in lines if r["method"] == "prompts/get")
    assert (prompt["argument_keys"], prompt["qualified_name"], prompt["run_id"], prompt["iteration"]) == (
        ["path"], "beta__review", "r7", 2)  # fmt: skip
    summary = summarize_calls(tmp_path)
    assert (summary.count, summary.by_tool) == (1, {"beta__add_resource": 1})
    assert summary.by_method == {"prompts/get": 1, "resources/read": 3, "tools/call": 1}


async def test_a_server_with_garbage_prompt_and_resource_lists_still_serves_its_tools(tmp_path: Path) -> None:
    bad = make_manifest(tmp_path, "bad", "--bad-lists", framing="newline")
    write_active_servers(tmp_path, [load_manifest(bad, tmp_path)])
    with anyio.fail_after(30):
        async with host_client(tmp_path) as client:
            assert "bad__echo" in {t.name for t in (await client.list_tools()).tools}
            assert (await client.list_prompts()).prompts == []
            assert (await client.list_resources()).resources == []  # an entry without a uri is left out
            assert (await client.list_resource_templates()).resource_templates == []
            echoed = await client.call_tool("bad__echo", {"x": 1})
            assert not echoed.is_error
    log = (tmp_path / ".harnessgym").rglob("bad.stderr.log")
    text = "".join(p.read_text() for p in log)
    assert "prompts/list failed, so none are offered" in text
    assert "resources/templates/list failed, so none are offered" in text


def test_a_uri_goes_to_the_template_that_fits_it_best_and_no_template_can_stall_the_router() -> None:
    from mcp_host._serve.surfaces import ServerSurfaces, Surfaces

    def offering(*templates: str) -> ServerSurfaces:
        return ServerSurfaces(templates=[{"uriTemplate": t, "name": t} for t in templates])

    evil = "".join(f"{{+v{i}}}x" for i in range(40))  # as a regex, (.+x){40} backtracks for ages on a miss
    surfaces = Surfaces()
    surfaces.rebuild([("catchall", offering(evil, "plain-literal")), ("alpha", offering("notes://{topic}")),
                      ("beta", offering("notes://{topic}.md", "file:///{+path}"))])  # fmt: skip
    assert surfaces.owner_of("notes://stability") == "alpha"
    assert surfaces.owner_of("notes://stability.md") == "beta"  # the longer literal fits better
    assert surfaces.owner_of("file:///src/numerics.py") == "beta"
    assert surfaces.owner_of("notes://") is None  # a variable must match something
    # On a regex these two would not return within the test's timeout; literal ends answer in microseconds.
    assert surfaces.owner_of("y" * 100_000) is None
    assert surfaces.owner_of("s3://bucket/" + "x" * 100_000 + "x") == "catchall"  # its only literal, "x", ends it
