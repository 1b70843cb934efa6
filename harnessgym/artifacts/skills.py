"""Skills: checking a SKILL.md the way the agent CLIs would, and linking active skills where they look.

Codex reads ``<ws>/.agents/skills/<name>`` and Claude Code ``<ws>/.claude/skills/<name>``; both links point at
``.harnessgym/skills/<name>`` (relative, so a copied workspace keeps working). Links are replaced atomically
(a temporary link renamed over the old one) and removed when their skill is no longer active. A real folder
someone put there is never touched.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from harnessgym.store import read_regular
from harnessgym.store.layout import Layout

__all__ = ["MAX_DESCRIPTION", "check_skill", "link_skill", "parse_front_matter", "remove_stale_links"]

MAX_DESCRIPTION = 1024
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def parse_front_matter(text: str) -> dict[str, str] | None:
    """The ``key: value`` pairs between leading ``---`` lines; None when there is no front matter."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return None
    fields: dict[str, str] = {}
    key: str | None = None
    for line in lines[1:]:
        if line.strip() == "---":
            return fields
        if key is not None and (line.startswith((" ", "\t")) or not line.strip()):
            fields[key] = (fields[key] + " " + line.strip()).strip()
            continue
        name, sep, value = line.partition(":")
        if not sep:
            key = None
            continue
        key = name.strip()
        value = value.strip()
        fields[key] = "" if value in (">", "|", ">-", "|-") else value.strip("'\"")
    return None


def check_skill(skill_md: Path) -> str | None:
    """Why the CLIs would reject this SKILL.md, or None when it is fine."""
    try:
        text = read_regular(skill_md, limit=1024 * 1024).decode("utf-8")
    except OSError as exc:
        return f"{skill_md.name} cannot be read ({exc.strerror or exc})"
    except UnicodeDecodeError as exc:
        return f"{skill_md.name} is not UTF-8 text (byte {exc.start}); the CLIs cannot read it"
    fields = parse_front_matter(text)
    if fields is None:
        return "SKILL.md has no front matter (a block between '---' lines holding name and description)"
    if not fields.get("name"):
        return "SKILL.md front matter has no 'name'"
    if not _NAME.match(fields["name"]):
        return f"SKILL.md name {fields['name']!r} must be letters, digits, '-', '_' or '.' (at most 64)"
    description = fields.get("description", "")
    if not description:
        return "SKILL.md front matter has no 'description'"
    if len(description) > MAX_DESCRIPTION:
        return f"SKILL.md description is {len(description)} characters; the CLIs accept at most {MAX_DESCRIPTION}"
    return None


def _atomic_symlink(target: str, link: Path) -> bool:
    """Point ``link`` at ``target``; False (and nothing changed) when a real file or folder is in the way."""
    if link.is_symlink():
        if os.readlink(link) == target:
            return True
    elif link.exists():
        return False
    link.parent.mkdir(parents=True, exist_ok=True)
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, link)
    return True


def link_skill(layout: Layout, skill_dir: Path) -> tuple[list[Path], list[str]]:
    """Link one skill folder for Codex and Claude; returns the links made and any warnings."""
    name = skill_dir.name
    links: list[Path] = []
    warnings: list[str] = []
    for link in (layout.agents_skill_link(name), layout.claude_skill_link(name)):
        target = os.path.relpath(skill_dir, link.parent)
        if _atomic_symlink(target, link):
            links.append(link)
        else:
            warnings.append(f"{link} exists and is not a link; skill {name!r} was not linked there")
    return links, warnings


def remove_stale_links(layout: Layout, keep: set[str]) -> list[Path]:
    """Remove links into ``.harnessgym/skills`` whose skill name is not in ``keep``."""
    removed: list[Path] = []
    try:
        skills_root = layout.kind_dir("skill").resolve()
    except (OSError, RuntimeError):  # the agent made the skills folder a symlink loop: no link can be ours
        return removed
    for folder in layout.skill_link_dirs:
        if not folder.is_dir():
            continue
        for link in folder.iterdir():
            if not link.is_symlink() or link.name in keep:
                continue
            try:
                target = (link.parent / os.readlink(link)).resolve()
            except (OSError, RuntimeError):  # a symlink loop someone made is not one of our links
                continue
            if target.parent == skills_root or skills_root in target.parents:
                link.unlink()
                removed.append(link)
    return removed
