"""Each package's ``__all__`` is its door, exactly; internals are private; the import contract covers them all.

httpx tests its export list the same way: a name that is public but not listed, or listed but missing, fails.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import tomllib
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("harnessgym", "mcp_host", "runners")
PROGRAMS = {"runners.fake_agent"}
"""Modules that are programs (``python -m ...``), not APIs: public by name, imported by nobody."""


@pytest.mark.parametrize("name", PACKAGES)
def test_every_name_in_all_exists_and_nothing_public_is_left_out(name: str) -> None:
    package = importlib.import_module(name)
    exported = list(package.__all__)
    assert len(exported) == len(set(exported)), f"{name}.__all__ lists a name twice"
    for public in exported:
        assert getattr(package, public, None) is not None, f"{name}.__all__ names {public}, which is missing"
    unlisted = {
        attr
        for attr, value in vars(package).items()
        if not attr.startswith("_")
        and not isinstance(value, types.ModuleType)
        and attr not in {"annotations", "TYPE_CHECKING", "Any"}
    } - set(exported)
    assert not unlisted, f"{name} has public names outside __all__: {sorted(unlisted)}"


def test_harnessgym_loads_each_exported_name_from_its_home_on_first_use() -> None:
    import harnessgym

    assert sorted(harnessgym._HOME) == sorted(harnessgym.__all__)
    assert dir(harnessgym) == sorted(harnessgym.__all__)
    with pytest.raises(AttributeError):
        _ = harnessgym.not_a_public_name  # type: ignore[attr-defined]


def _submodules(name: str) -> list[str]:
    package = importlib.import_module(name)
    return [m.name for m in pkgutil.walk_packages(package.__path__, prefix=f"{name}.")]


@pytest.mark.parametrize("name", ["mcp_host", "runners"])
def test_every_module_behind_the_door_is_private(name: str) -> None:
    public = [m for m in _submodules(name) if not m.split(".")[1].startswith("_") and m not in PROGRAMS]
    assert not public, f"{name} modules outside the door must be private (leading underscore): {public}"


def test_the_import_contracts_forbid_every_private_module_of_the_lower_packages() -> None:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    forbidden = {m for c in contracts if c["type"] == "forbidden" for m in c["forbidden_modules"]}
    for name in ("mcp_host", "runners"):
        top_private = {".".join(m.split(".")[:2]) for m in _submodules(name) if m.split(".")[1].startswith("_")}
        missing = top_private - forbidden
        assert not missing, f"add {sorted(missing)} to a forbidden contract in pyproject.toml"


def test_architecture_md_names_every_module_and_only_modules_that_exist() -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text()
    for name in PACKAGES:
        for module in _submodules(name):
            leaf = module.rsplit(".", 1)[1]
            if leaf == "prompts" or leaf.startswith("__"):
                continue  # a folder of templates, named as prompts/*.md
            assert f"`{leaf}`" in text or f"`{leaf}/`" in text, f"ARCHITECTURE.md does not place {module}"
    rooms = re.findall(r"^\| \| `(\w+)/` \|", text, flags=re.M)
    for room in rooms:
        assert any((ROOT / p / room).is_dir() for p in PACKAGES), f"ARCHITECTURE.md names a room {room}/ that is gone"
