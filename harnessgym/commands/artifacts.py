"""``harnessgym artifacts list|show|qualify|promote|quarantine``: a workspace's registry outside a run.

A bundle made elsewhere is taken in this way: copy its ``.harnessgym/`` into the workspace, run ``harnessgym
artifacts qualify --all`` (every artifact is checked in a clean copy; what passes becomes active, what fails is
quarantined), and ``harnessgym host --workspace DIR`` then serves its MCP servers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

__all__ = ["artifacts"]

_WORKSPACE = click.option("--workspace", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
                          show_default=True, help="The workspace whose .harnessgym/registry.json is used.")  # fmt: skip
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
_ALL = click.option("--all", "every", is_flag=True, help="Every artifact in the registry.")


def _ids(workspace: Path, artifact_ids: tuple[str, ...], every: bool) -> list[str]:
    from harnessgym.artifacts.manage import list_artifacts

    if every == bool(artifact_ids):
        raise click.UsageError("name one or more ARTIFACT_IDs, or pass --all (see `harnessgym artifacts list`)")
    return [a.id for a in list_artifacts(workspace)] if every else list(artifact_ids)


def _workspace(workspace: Path) -> Path:
    return workspace.expanduser().absolute()


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2))


@click.group(name="artifacts")
def artifacts() -> None:
    """List, inspect, qualify, promote and quarantine the artifacts of a workspace."""


@artifacts.command(name="list")
@_WORKSPACE
@_JSON
def list_command(workspace: Path, as_json: bool) -> None:
    """Every artifact in the registry with its state and last verdict."""
    from rich import box
    from rich.table import Table

    from harnessgym.artifacts.manage import list_artifacts
    from harnessgym.commands.ending import stdout_console

    ws = _workspace(workspace)
    entries = list_artifacts(ws)
    if as_json:
        _echo_json([e.model_dump(mode="json") for e in entries])
        return
    if not entries:
        click.echo(f"no artifacts in {ws}/.harnessgym/registry.json; a `harnessgym run` builds them, or copy a "
                   "bundle's .harnessgym/ in and run `harnessgym artifacts qualify --all`")  # fmt: skip
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("id", "kind", "state", "verdict", "iteration", "description"):
        table.add_column(column, overflow="fold")
    for e in entries:
        verdict = e.qualification.status if e.qualification else "-"
        # the iteration that built it when the agent's entry says so, else the one that last qualified it
        built = e.iteration if e.iteration is not None else (e.qualification.iteration if e.qualification else None)
        table.add_row(e.id, e.kind, e.state, verdict, "-" if built is None else str(built), e.description)
    stdout_console().print(table)


@artifacts.command(name="show")
@click.argument("artifact_id")
@_WORKSPACE
def show_command(artifact_id: str, workspace: Path) -> None:
    """One artifact's registry entry (JSON)."""
    from harnessgym.artifacts.manage import list_artifacts
    from harnessgym.errors import ArtifactNotFoundError

    ws = _workspace(workspace)
    entry = next((e for e in list_artifacts(ws) if e.id == artifact_id), None)
    if entry is None:
        raise click.ClickException(str(ArtifactNotFoundError(artifact_id, ws)))
    _echo_json(entry.model_dump(mode="json"))


@artifacts.command(name="qualify")
@click.argument("artifact_ids", nargs=-1)
@_ALL
@click.option("--promote/--no-promote", default=True, show_default=True,
              help="Make what passes active (served by the host, linked as skills); --no-promote leaves it "
              "qualified.")  # fmt: skip
@_WORKSPACE
@_JSON
def qualify_command(artifact_ids: tuple[str, ...], every: bool, promote: bool, workspace: Path, as_json: bool) -> None:
    """Check artifacts in a clean copy of the workspace (MCP smoke test and self-tests); failures are
    quarantined. Exits 1 when any failed."""
    import anyio

    from harnessgym.artifacts.manage import list_artifacts, qualify_artifacts
    from harnessgym.errors import HarnessgymError

    ws = _workspace(workspace)
    ids = _ids(ws, artifact_ids, every)
    try:
        verdicts = anyio.run(lambda: qualify_artifacts(ws, ids, promote=promote))
    except HarnessgymError as exc:
        raise click.ClickException(str(exc)) from None
    states = {e.id: e.state for e in list_artifacts(ws)}
    if as_json:
        _echo_json([{**v.model_dump(mode="json"), "state": states.get(v.artifact_id)} for v in verdicts])
    elif not verdicts:
        click.echo(f"nothing to qualify in {ws}/.harnessgym/registry.json")
    for v in verdicts if not as_json else []:
        tools = f" (tools: {', '.join(v.tools)})" if v.tools else ""
        why = f": {v.message}" if v.status == "failed" and v.message else ""
        click.echo(f"{v.artifact_id}: {v.status}, now {states.get(v.artifact_id, '?')}{tools}{why}")
    if any(states.get(v.artifact_id) == "active" and v.kind == "mcp" for v in verdicts) and not as_json:
        click.echo(f"Serve them with: harnessgym host --workspace {ws}")
    if any(v.status == "failed" for v in verdicts):
        raise SystemExit(1)


@artifacts.command(name="promote")
@click.argument("artifact_ids", nargs=-1)
@_ALL
@_WORKSPACE
def promote_command(artifact_ids: tuple[str, ...], every: bool, workspace: Path) -> None:
    """Make qualified artifacts active for the next fresh session (with --all: every qualified one)."""
    from harnessgym.artifacts.manage import list_artifacts, promote_artifact
    from harnessgym.errors import HarnessgymError

    ws = _workspace(workspace)
    if every and not artifact_ids:
        ids = [e.id for e in list_artifacts(ws) if e.state == "qualified"]
        if not ids:
            click.echo("no qualified artifact to promote; qualify them first with `harnessgym artifacts qualify`")
    else:
        ids = _ids(ws, artifact_ids, every)
    for artifact_id in ids:
        try:
            entry = promote_artifact(ws, artifact_id)
        except HarnessgymError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"{entry.id}: {entry.state}")


@artifacts.command(name="quarantine")
@click.argument("artifact_ids", nargs=-1)
@_ALL
@click.option("--reason", default="quarantined by hand", show_default=True, help="Recorded with the artifact.")
@_WORKSPACE
def quarantine_command(artifact_ids: tuple[str, ...], every: bool, reason: str, workspace: Path) -> None:
    """Hide artifacts from the next sessions (skill links removed, servers no longer served)."""
    from harnessgym.artifacts.manage import quarantine_artifact
    from harnessgym.errors import HarnessgymError

    ws = _workspace(workspace)
    for artifact_id in _ids(ws, artifact_ids, every):
        try:
            entry = quarantine_artifact(ws, artifact_id, reason)
        except HarnessgymError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"{entry.id}: {entry.state} ({entry.quarantine_reason})")
