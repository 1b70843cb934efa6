"""Atomic record writes, lenient reads of what agents wrote, and the append-only journal."""

from __future__ import annotations

import errno
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from harnessgym.errors import NO_SPACE_ERRNOS, DiskFullError
from harnessgym.records import MAX_JSON_DEPTH, AgentResult, JournalEntry, json_too_deep

__all__ = ["AGENT_FILE_LIMIT_BYTES", "append_journal", "atomic_write_text", "load_json", "read_agent_result",
           "read_journal", "read_model", "read_regular", "write_model"]

M = TypeVar("M", bound=BaseModel)

AGENT_FILE_LIMIT_BYTES = 32 * 1024 * 1024
"""A JSON file an agent can write (result.json, registry.json) or replace (our records) larger than this is not
read: no honest one comes close, and reading it whole would cost the loop its memory."""


def read_regular(path: Path, limit: int | None = AGENT_FILE_LIMIT_BYTES) -> bytes:
    """The bytes of a regular file (symlinks followed) of at most ``limit`` bytes.

    Anything an agent can put at ``path`` is refused with an :class:`OSError` whose ``strerror`` says why, and
    never blocks: the file is opened non-blocking and checked before it is read, so a FIFO (whose read would
    wait forever for a writer) or a device is refused rather than read."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "it is not a regular file", str(path))
        if limit is not None and info.st_size > limit:
            raise OSError(errno.EFBIG, f"it is larger than {limit} bytes", str(path))
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read() if limit is None else fh.read(limit + 1)
    finally:
        os.close(fd)
    if limit is not None and len(data) > limit:  # it grew while we read it
        raise OSError(errno.EFBIG, f"it is larger than {limit} bytes", str(path))
    return data


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` so readers see the old file or the new one, never half: temp file, fsync, rename. A full
    disk raises :class:`~harnessgym.errors.DiskFullError` naming the file and the space it needed."""
    try:
        _atomic_write_text(path, text)
    except OSError as exc:
        if exc.errno in NO_SPACE_ERRNOS and not isinstance(exc, DiskFullError):
            raise DiskFullError(path, len(text.encode("utf-8", "surrogateescape"))) from exc
        raise


def _atomic_write_text(path: Path, text: str) -> None:
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
        return model.model_validate_json(read_regular(path))
    except (OSError, ValidationError, ValueError, RecursionError):
        return None


# -- what agents write ---------------------------------------------------------------------------------


def load_json(path: Path, label: str, consequence: str) -> tuple[Any, list[str]]:
    try:
        text = read_regular(path).decode("utf-8", errors="replace")
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
    path.parent.mkdir(parents=True, exist_ok=True)
    line = entry.model_dump_json() + "\n"
    if path.is_symlink() or (path.exists() and not path.is_file()):
        # An agent put something else here (a FIFO would block the open forever); keep it aside, start afresh.
        os.replace(path, path.with_name(f"{path.name}.displaced-{os.getpid()}"))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        if exc.errno in NO_SPACE_ERRNOS:
            raise DiskFullError(path, len(line.encode())) from exc
        raise


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


