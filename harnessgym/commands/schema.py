"""``harnessgym schema NAME``: print the JSON Schema of a record harnessgym reads or writes."""

from __future__ import annotations

import json
from typing import Any

import click

__all__ = ["RECORDS", "record_schema", "schema"]

# name -> (module, model): every persisted or exchanged record.
RECORDS: dict[str, tuple[str, str]] = {
    "run-config": ("harnessgym.config", "RunConfig"),
    "compare-config": ("harnessgym.compare.models", "CompareConfig"),
    "runner-options": ("runners", "RunnerOptions"),
    "result": ("harnessgym.records", "AgentResult"),
    "iteration": ("harnessgym.records", "IterationRecord"),
    "verdict": ("harnessgym.records", "Verdict"),
    "measurement": ("harnessgym.evidence.scores", "Measurement"),
    "best-manifest": ("harnessgym.evidence.scores", "BestCheckpoint"),
    "summary": ("harnessgym.records", "RunSummary"),
    "journal-entry": ("harnessgym.records", "JournalEntry"),
    "registry": ("harnessgym.artifacts.registry", "Registry"),
    "activation": ("harnessgym.artifacts.registry", "ActivationRecord"),
    "qualification": ("harnessgym.artifacts.registry", "QualificationReport"),
    "run-event": ("harnessgym.events", "RunEvent"),
    "run-info": ("harnessgym.events", "RunInfo"),
    "compare-report": ("harnessgym.compare.models", "CompareReport"),
    "compare-trial": ("harnessgym.compare.models", "TrialRecord"),
    "compare-plan": ("harnessgym.compare.trials", "ComparePlan"),
    "compare-trial-job": ("harnessgym.compare.executors", "TrialJob"),
    "suite": ("harnessgym.compare.suite", "Suite"),
    "mcp-call": ("mcp_host", "CallRecord"),
}


def record_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of record ``name`` (a key of :data:`RECORDS`), as ``harnessgym schema NAME`` prints it."""
    import importlib

    module, attr = RECORDS[name]
    model = getattr(importlib.import_module(module), attr)
    schema: dict[str, Any] = model.model_json_schema()
    return schema


@click.command(name="schema")
@click.argument("name", required=False, type=click.Choice(sorted(RECORDS)))
def schema(name: str | None) -> None:
    """Print the JSON Schema of record NAME (without NAME: list the names)."""
    if name is None:
        for key in sorted(RECORDS):
            click.echo(key)
        return
    click.echo(json.dumps(record_schema(name), indent=2))
