"""Prompts and resources of the supervised servers, offered through the host next to their tools.

Tools are the hot path and the contract (see :mod:`mcp_host._serve.router`); prompts and resources are offered as well,
so the host is a whole MCP server of servers and not only a tool gateway:

* **Prompts** get qualified names like tools (``<server>__<prompt>``, :mod:`mcp_host._serve.names`), and
  ``prompts/get`` goes to the owning server under the prompt's own name.
* **Resources** keep their URIs (a tool result may link to one, so rewriting them would break the link).
  ``resources/read`` goes to the server that listed the URI; when two servers list the same URI, the first in
  activation order owns it, and the other's copy is left out of the list (and logged). A URI no server listed
  goes to the server whose URI template fits it best: the template's literal text before its first variable
  must begin the URI and the text after its last must end it; the longest such literal wins, then activation
  order. Deliberately not a regular expression built from the template: a hostile server could write a
  template whose pattern backtracks for minutes, and the router is single-threaded.

Listing is done at start (only for a server that announces the capability) and again when a server sends
``notifications/{prompts,resources}/list_changed``; a server whose lists cannot be read (or, at start, are not
read before the startup deadline) still serves its tools. These requests are not on the per-call hot path, so
they go through :meth:`Downstream.request` (a parsed request and answer), with the server's startup timeout.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from mcp_host._errors import ServerError
from mcp_host._serve.names import build_catalog

if TYPE_CHECKING:
    from mcp_host._supervise.downstream import Downstream

__all__ = ["ServerSurfaces", "Surfaces", "list_surfaces"]

log = logging.getLogger(__name__)

_PAGES = 50


@dataclass
class ServerSurfaces:
    """What one server offers besides tools, as it listed them."""

    prompts: list[dict[str, Any]] = field(default_factory=list)
    resources: list[dict[str, Any]] = field(default_factory=list)
    templates: list[dict[str, Any]] = field(default_factory=list)


async def _list(server: Downstream, method: str, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(_PAGES):
        msg = await server.request(method, {"cursor": cursor} if cursor else None, server.spec.startup_timeout)
        page = msg.get("result")
        if not isinstance(page, dict) or not isinstance(page.get(key), list):
            raise ServerError(server.name, f"{method} gave no {key} list")
        items.extend(i for i in page[key] if isinstance(i, dict))
        cursor = page.get("nextCursor")
        if not isinstance(cursor, str) or not cursor:
            break
    return items


async def list_surfaces(
    server: Downstream, capabilities: dict[str, Any], within: float | None = None
) -> ServerSurfaces:
    """The prompts, resources and resource templates ``server`` announced (never raises: a list that cannot be
    read is empty, and the reason goes to the server's log). Lists not read ``within`` seconds are left empty
    (the handshake passes what its startup deadline leaves, so a list never answered cannot fail the start)."""
    out = ServerSurfaces()
    done: set[str] = set()
    wanted: list[tuple[str, str, str, str]] = []
    if isinstance(capabilities.get("prompts"), dict):
        wanted.append(("prompts/list", "prompts", "prompts", "name"))
    if isinstance(capabilities.get("resources"), dict):
        wanted += [("resources/list", "resources", "resources", "uri"),
                   ("resources/templates/list", "resourceTemplates", "templates", "uriTemplate")]  # fmt: skip

    async def fetch(method: str, key: str, attr: str, required: str) -> None:
        try:
            items = await _list(server, method, key)
        except ServerError as exc:
            server.stderr.note(f"{method} failed, so none are offered: {exc}")
        else:
            setattr(out, attr, [i for i in items if isinstance(i.get(required), str)])
        done.add(method)

    # Concurrently: a server starting beside others waits for CPU, and each round trip would add to its start.
    with anyio.move_on_after(within):
        async with anyio.create_task_group() as tg:
            for item in wanted:
                tg.start_soon(fetch, *item)
    for method, *_ in wanted:
        if method not in done:
            server.stderr.note(f"{method} was not answered within {within or 0:g} s, so none are offered")
    return out


def _literal_ends(template: str) -> tuple[str, str] | None:
    """The literal text before the first and after the last ``{variable}``; None without a variable."""
    first, last = template.find("{"), template.rfind("}")
    if first < 0 or last < first:
        return None
    return template[:first], template[last + 1 :]


class Surfaces:
    """The host-wide prompt and resource catalogs, rebuilt whenever a server's lists change."""

    def __init__(self, *, prefix: bool = True) -> None:
        self.prefix = prefix
        self.prompt_names: dict[str, tuple[str, str]] = {}
        self.prompts: list[dict[str, Any]] = []
        self.resource_owner: dict[str, str] = {}
        self.resources: list[dict[str, Any]] = []
        self.templates: list[dict[str, Any]] = []
        self._template_owners: list[tuple[str, str, str]] = []
        """(literal prefix, literal suffix, server), in activation order."""

    def rebuild(self, servers: Sequence[tuple[str, ServerSurfaces]]) -> None:
        self.prompt_names, self.prompts = build_catalog([(n, s.prompts) for n, s in servers], prefix=self.prefix)
        owner: dict[str, str] = {}
        resources: list[dict[str, Any]] = []
        for name, surfaces in servers:
            for item in surfaces.resources:
                uri = item["uri"]
                if uri in owner:
                    if owner[uri] != name:
                        log.warning("resource %s is offered by %s and %s; %s serves it", uri, owner[uri], name,
                                    owner[uri])  # fmt: skip
                    continue
                owner[uri] = name
                resources.append(item)
        self.resource_owner, self.resources = owner, resources
        self.templates = [t for _, s in servers for t in s.templates]
        self._template_owners = [(*ends, n) for n, s in servers for t in s.templates
                                 if (ends := _literal_ends(t["uriTemplate"])) is not None]  # fmt: skip

    def owner_of(self, uri: str) -> str | None:
        """The server that serves ``uri``: the one that listed it, else the one whose template fits it best."""
        if uri in self.resource_owner:
            return self.resource_owner[uri]
        best, best_len = None, -1
        for prefix, suffix, name in self._template_owners:
            fits = len(uri) > len(prefix) + len(suffix) and uri.startswith(prefix) and uri.endswith(suffix)
            if fits and len(prefix) + len(suffix) > best_len:
                best, best_len = name, len(prefix) + len(suffix)
        return best
