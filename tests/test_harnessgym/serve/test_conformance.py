"""The MCP conformance suite against ``harnessgym serve --transport http``, at both protocol revisions.

Only the protocol-level scenarios run: the rest need the suite's own fixture tools and resources
(``test_simple_text``, ``test://static-text`` ...), which a real server does not have. ``server-stateless`` is
left out for the same reason (two of its checks call the fixture tool ``test_missing_capability``).
"""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from support.node22 import NodeTools, ensure_node22
from support.serve_http import serve_http

from mcp_host._supervise.procs import run_process

pytestmark = [pytest.mark.anyio, pytest.mark.conformance]

SCENARIOS: dict[str, tuple[str, ...]] = {
    "2025-11-25": (
        "server-initialize",
        "server-session-lifecycle",
        "ping",
        "tools-list",
        "dns-rebinding-protection",
        "server-sse-multiple-streams",
    ),
    "2026-07-28": (
        "tools-list",
        "dns-rebinding-protection",
        "server-sse-multiple-streams",
        "caching",
        "http-header-validation",
        "sep-2164-resource-not-found",
        "input-required-result-unsupported-methods",
        "input-required-result-ignore-extra-params",
        "input-required-result-validate-input",
        "input-required-result-missing-input-response",
    ),
}
_SCENARIO_SECONDS = 30.0
_PARALLEL = 4


@pytest.fixture(scope="module")
def node_tools() -> NodeTools:
    return ensure_node22()


def _checks(out_dir: Path) -> list[dict[str, object]]:
    checks: list[dict[str, object]] = []
    for path in sorted(out_dir.rglob("checks.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        checks.extend(data if isinstance(data, list) else data.get("checks", []))
    return checks


async def test_protocol_scenarios_pass_at_both_revisions(tmp_path: Path, node_tools: NodeTools) -> None:
    failures: list[str] = []
    ran: list[str] = []
    limit = anyio.Semaphore(_PARALLEL)

    async def one(url: str, version: str, scenario: str) -> None:
        out_dir = tmp_path / "out" / version / scenario
        async with limit:
            result = await run_process(
                [
                    str(node_tools.node),
                    str(node_tools.conformance),
                    "server",
                    "--url",
                    url,
                    "--scenario",
                    scenario,
                    "--spec-version",
                    version,
                    "-o",
                    str(out_dir),
                ],
                timeout=_SCENARIO_SECONDS,
            )
        checks = _checks(out_dir)
        failed = [c for c in checks if c.get("status") == "FAILURE"]
        if result.returncode != 0 or failed or not checks or "SKIPPED: scenario" in result.stdout_tail:
            failures.append(f"{version} {scenario}: rc={result.returncode}\n{result.stdout_tail[-3000:]}")
        else:
            ran.append(f"{version} {scenario}")

    with anyio.fail_after(90):
        async with serve_http(tmp_path) as url, anyio.create_task_group() as tg:
            for version, scenarios in SCENARIOS.items():
                for scenario in scenarios:
                    tg.start_soon(one, url, version, scenario)
    assert not failures, "\n\n".join(failures)
    assert len(ran) == sum(len(s) for s in SCENARIOS.values())
