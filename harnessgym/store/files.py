"""Atomic record writes, lenient reads of what agents wrote, and the append-only journal."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from harnessgym.records import AgentResult, JournalEntry

__all__ = ["append_journal", "atomic_write_text", "load_json", "read_agent_result", "read_journal", "read_model",
           "write_model"]

M = TypeVar("M", bound=BaseModel)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` so readers see the old file or the new one, never half: temp file, fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_model(path: Path, model: BaseModel) -> None:
    atomic_write_text(path, model.model_dump_json(indent=2) + "\n")


def read_model(path: Path, model: type[M]) -> M | None:
    """A record harnessgym wrote itself; None when missing or unreadable (it is rewritten later)."""
    try:
        return model.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError, ValueError):
        return None


# -- what agents write ---------------------------------------------------------------------------------


def load_json(path: Path, label: str, consequence: str) -> tuple[Any, list[str]]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None, [f"{label} was not written; {consequence}"]
    except OSError as exc:
        return None, [f"{label} cannot be read ({exc.strerror}); {consequence}"]
    if not text.strip():
        return None, [f"{label} is empty; {consequence}"]
    try:
        return json.loads(text), []
    except json.JSONDecodeError as exc:
        return None, [f"{label} is not JSON (line {exc.lineno}, column {exc.colno}); {consequence}"]


def read_agent_result(path: Path, iteration: int, phase: str = "attempt") -> tuple[AgentResult | None, list[str]]:
    """The agent's result.json, leniently: unknown keys kept, bad fields dropped and reported."""
    label = f"result.json of iteration {iteration}"
    consequence = "the attempt is recorded as incomplete" if phase == "attempt" else f"the {phase} claims nothing"
    data, problems = load_json(path, label, consequence)
    if data is None:
        return None, problems
    if not isinstance(data, dict):
        return None, [f"{label} holds a JSON {type(data).__name__}, not an object; {consequence}"]
    for _ in range(len(data) + 1):
        try:
            return AgentResult.model_validate(data), problems
        except ValidationError as exc:
            bad = {str(err["loc"][0]) for err in exc.errors() if err["loc"]}
            for key in sorted(bad):
                problems.append(f"{label}: field {key!r} has the wrong shape and was ignored")
                data[f"invalid_{key}"] = data.pop(key)
    return AgentResult(), problems


# -- journal ---------------------------------------------------------------------------------------------


def append_journal(path: Path, entry: JournalEntry) -> None:
    """Append one line and fsync it, so the line survives a kill -9 right after."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = entry.model_dump_json() + "\n"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def read_journal(path: Path) -> list[JournalEntry]:
    """Every intact line; a torn last line (a kill during the write) is skipped."""
    entries: list[JournalEntry] = []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return entries
    for line in lines:
        try:
            entries.append(JournalEntry.model_validate_json(line))
        except ValidationError:
            continue
    return entries


