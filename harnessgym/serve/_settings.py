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


_ALLOW_ROOT: JsonDict = {"flags": ["--allow-root"]}
_ALLOWED_HOST: JsonDict = {"flags": ["--allowed-host"]}
"""The command line's singular spellings of the repeatable options (see harnessgym.options)."""


class ServeSettings(BaseModel):
    """Everything one control server needs to know before it accepts a client."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    allow_roots: tuple[Path, ...] = Field(default_factory=lambda: (Path.cwd(),), json_schema_extra=_ALLOW_ROOT)
    """Folders a client may name workspaces under (after resolving symlinks). Nothing outside them is touched."""
    state_dir: Path = Field(default_factory=default_state_dir)
    """Where this server keeps its small index of workspaces it has seen, so a restart can list earlier runs."""
    transport: Literal["stdio", "http"] = "stdio"
    host: str = "127.0.0.1"
    """The HTTP bind address."""
    port: int = Field(default=8765, ge=0, le=65535)
    """The HTTP port; 0 picks a free one (the bound URL is printed to stderr and written to ``url_file``)."""
    token: str | None = None
    """The bearer token every HTTP request must carry. Required for any bind outside :data:`LOOPBACK_HOSTS`."""
    allowed_hosts: tuple[str, ...] = Field(default=(), json_schema_extra=_ALLOWED_HOST)
    """Extra ``Host`` header values accepted by the DNS-rebinding check (``name:port`` or ``name:*``)."""
    url_file: Path | None = None
    """Where to write the bound URL once the HTTP server listens (for scripts and tests)."""

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
