"""Record writes (through the one atomic write, :func:`mcp_host.write_atomic`), lenient reads of what
agents wrote, and the append-only journal."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from harnessgym.errors import NO_SPACE_ERRNOS, DiskFullError
from harnessgym.records import MAX_JSON_DEPTH, AgentResult, JournalEntry, json_too_deep
from mcp_host import AGENT_FILE_LIMIT_BYTES, read_regular, write_atomic

__all__ = [
    "AGENT_FILE_LIMIT_BYTES",
    "append_journal",
    "append_line",
    "load_json",
    "read_agent_result",
    "read_journal",
    "read_lines",
    "read_model",
    "read_regular",
    "write_atomic",
    "write_model",
]

M = TypeVar("M", bound=BaseModel)


def write_model(path: Path, model: BaseModel) -> str:
    """Write a record atomically and return the text written; a full disk raises
    :class:`~harnessgym.errors.DiskFullError` naming the file and the space it needed."""
    text = model.model_dump_json(indent=2) + "\n"
    try:
        write_atomic(path, text)
    except OSError as exc:
        if exc.errno in NO_SPACE_ERRNOS and not isinstance(exc, DiskFullError):
            raise DiskFullError(path, len(text.encode("utf-8", "surrogateescape"))) from exc
        raise
    return text


def read_model(path: Path, model: type[M]) -> M | None:
    """A record harnessgym wrote itself; None when missing or unreadable (it is rewritten later)."""
    try:
        return model.model_validate_json(read_regular(path))
    except (OSError, ValidationError, ValueError, RecursionError):
        return None


# -- what agents write ---------------------------------------------------------------------------------


def load_json(path: Path, label: str, consequence: str, *, raw: bytes | None = None) -> tuple[Any, list[str]]:
    """What an agent-written JSON file holds, leniently; ``raw``: its bytes, already read (bounded)."""
    try:
        text = (read_regular(path) if raw is None else raw).decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None, [f"{label} was not written; {consequence}"]
    except OSError as exc:
        return None, [f"{label} cannot be read ({exc.strerror or exc}); {consequence}"]
    if not text.strip():
        return None, [f"{label} is empty; {consequence}"]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [f"{label} is not JSON (line {exc.lineno}, column {exc.colno}); {consequence}"]
    except ValueError:  # an integer of more digits than Python converts
        return None, [f"{label} holds a number too long to read; {consequence}"]
    except RecursionError:
        data = None
    if data is None or json_too_deep(data):
        if data is None and text.strip() == "null":
            return None, [f"{label} holds a JSON null, not an object; {consequence}"]
        return None, [f"{label} is nested more than {MAX_JSON_DEPTH} levels deep; {consequence}"]
    return data, []


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
    append_line(path, entry, sync=True)


def append_line(path: Path, record: BaseModel, *, sync: bool = False) -> None:
    """Append ``record`` as one JSON line (fsynced with ``sync``); readers never see half a line as a record."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = record.model_dump_json() + "\n"
    if path.is_symlink() or (path.exists() and not path.is_file()):
        # An agent put something else here (a FIFO would block the open forever); keep it aside, start afresh.
        os.replace(path, path.with_name(f"{path.name}.displaced-{os.getpid()}"))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            if sync:
                os.fsync(fh.fileno())
    except OSError as exc:
        if exc.errno in NO_SPACE_ERRNOS and not isinstance(exc, DiskFullError):
            raise DiskFullError(path, len(line.encode())) from exc
        raise


def read_lines(path: Path, model: type[M], offset: int = 0, limit: int = AGENT_FILE_LIMIT_BYTES) -> tuple[list[M], int]:
    """The records of the complete lines after byte ``offset`` (at most ``limit`` bytes of them), and the offset
    to read on from. A line still being written is left for the next read; lines that are not records are
    skipped; a file that is missing, not regular, or shorter than ``offset`` (replaced) gives nothing new."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return [], offset
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size <= offset:
            return [], offset
        data = os.pread(fd, min(limit, info.st_size - offset), offset)
    finally:
        os.close(fd)
    end = data.rfind(b"\n") + 1
    records: list[M] = []
    for line in data[:end].splitlines():
        try:
            records.append(model.model_validate_json(line))
        except (ValidationError, ValueError, RecursionError):
            continue
    return records, offset + end


def read_journal(path: Path) -> list[JournalEntry]:
    """Every intact line; a torn last line (a kill during the write) is skipped."""
    entries: list[JournalEntry] = []
    try:
        lines = read_regular(path, limit=None).decode("utf-8", errors="replace").splitlines()
    except OSError:
        return entries
    for line in lines:
        try:
            entries.append(JournalEntry.model_validate_json(line))
        except (ValidationError, RecursionError):
            continue
    return entries
