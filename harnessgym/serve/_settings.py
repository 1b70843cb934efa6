"""How one ``harnessgym serve`` process is configured: transport, roots, state folder, token."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.config import JsonDict

from harnessgym.errors import ConfigError

__all__ = ["LOOPBACK_HOSTS", "ServeSettings", "default_state_dir"]

LOOPBACK_HOSTS: frozenset[str] = frozenset({"127.0.0.1", "::1", "localhost"})
"""The binds that may run without a token. Deliberately only these three: any other address, even another
loopback one such as 127.0.0.2, is treated as reachable by others and needs a bearer token."""


def default_state_dir() -> Path:
    """``$HARNESSGYM_STATE_DIR``, else ``$XDG_STATE_HOME/harnessgym``, else ``~/.local/state/harnessgym``."""
    explicit = os.environ.get("HARNESSGYM_STATE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "state"
    return base / "harnessgym"


_HTTP: JsonDict = {"section": "Transport"}
_ROOTS: JsonDict = {"section": "Workspaces"}


class ServeSettings(BaseModel):
    """Everything one control server needs to know before it accepts a client. It also declares the options of
    ``harnessgym serve``, generated from these fields (see :mod:`harnessgym.options`)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    transport: Literal["stdio", "http"] = Field(default="stdio", json_schema_extra=_HTTP)
    """stdio for `claude mcp add harnessgym -- harnessgym serve`; http for streamable HTTP at /mcp."""
    host: str = Field(default="127.0.0.1", json_schema_extra=_HTTP)
    """The HTTP bind address."""
    port: int = Field(default=8765, ge=0, le=65535, json_schema_extra=_HTTP)
    """The HTTP port; 0 picks a free one (the bound URL is printed to stderr and written to ``url_file``)."""
    token: str | None = Field(default=None, json_schema_extra={**_HTTP, "envvar": "HARNESSGYM_SERVE_TOKEN"})
    """The bearer token every HTTP request must carry (env HARNESSGYM_SERVE_TOKEN). Required for any bind
    outside :data:`LOOPBACK_HOSTS` (127.0.0.1, ::1, localhost)."""
    allowed_hosts: tuple[str, ...] = Field(default=(), json_schema_extra={**_HTTP, "flags": ["--allowed-host"]})
    """An extra ``Host`` header value the DNS-rebinding check accepts, e.g. myhost:8765 or myhost:*."""
    url_file: Path | None = Field(default=None, json_schema_extra={**_HTTP, "path": {"dir_okay": False}})
    """Where to write the bound URL once the HTTP server listens (for scripts and tests, with port 0)."""
    allow_roots: tuple[Path, ...] = Field(
        default_factory=lambda: (Path.cwd(),),
        json_schema_extra={**_ROOTS, "flags": ["--allow-root"], "path": {"exists": True, "file_okay": False}},
    )
    """A folder clients may name workspaces and task files under (default: the current folder), after resolving
    symlinks. Nothing outside them is touched."""
    state_dir: Path = Field(
        default_factory=default_state_dir, json_schema_extra={**_ROOTS, "path": {"file_okay": False}}
    )
    """Where the server remembers workspaces it has seen, so a restart can list earlier runs (default:
    $HARNESSGYM_STATE_DIR or ~/.local/state/harnessgym)."""

    @model_validator(mode="after")
    def _token_off_loopback(self) -> ServeSettings:
        if self.transport == "http" and self.host not in LOOPBACK_HOSTS and not self.token:
            raise ConfigError(
                f"refusing to bind {self.host} without a token: only 127.0.0.1, ::1 and localhost may run without "
                "one; set a bearer token with {token} or HARNESSGYM_SERVE_TOKEN",
                "token",
            )
        if not self.allow_roots:
            raise ConfigError("at least one allowed root is needed", "allow_roots")
        return self

    @property
    def roots(self) -> tuple[Path, ...]:
        """The allowed roots, absolute and with symlinks resolved."""
        return tuple(root.expanduser().resolve() for root in self.allow_roots)
