"""Arm names in the printed comparison: the leave-one-out arms are named by what they leave out."""

from __future__ import annotations

import pytest

from harnessgym.compare.render_suite import arm_label


@pytest.mark.parametrize(
    ("arm", "label"),
    [
        ("plain", "plain"),
        ("harnessed", "harnessed"),
        ("minus:tool:.harnessgym/tools/fixer.py", "-fixer.py"),
        ("minus:mcp:.harnessgym/mcp/probe/harnessgym-mcp.json", "-probe"),
        ("minus:mcp:.harnessgym/mcp/other/server.json", "-other"),
        ("minus:skill:.harnessgym/skills/notes.md", "-notes.md"),
    ],
)
def test_a_leave_one_out_arm_is_named_by_the_artifact_it_leaves_out(arm: str, label: str) -> None:
    assert arm_label(arm) == label
