"""Goal mode for the scripted model: Claude Code's stop-condition evaluator and file-gated steps.

Claude Code 2.1.197 runs ``/goal <condition>`` as a Stop hook: at each stop it sends a separate, tool-less
request (system prompt "You are evaluating a stop-condition hook ...", a JSON-schema output ``{ok, reason,
impossible}``) whose last user message holds ``Condition: <condition>`` and the hook's ``ARGUMENTS`` (with the
session's ``cwd``). :func:`judge_reply` answers it from the matched script's ``judge`` rule, judged on the real
workspace (a file that exists or not), never on what the conversation claims.

Codex 0.169 needs nothing special: its ``get_goal``/``update_goal`` tools are ordinary offered tools, so a script
step calls ``update_goal`` like any other tool; ``when_file`` makes such a step wait for real evidence.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

__all__ = ["evaluator_condition", "gate_step", "judge_reply", "request_cwd"]

_EVALUATOR = "evaluating a stop-condition hook"
_CONDITION = re.compile(r"Condition: (.*?)\n\nARGUMENTS:", re.DOTALL)
_CWDS = (
    re.compile(r'\\"cwd\\":\s*\\"(.*?)\\"'),  # the evaluator's ARGUMENTS, inside a JSON string
    re.compile(r'"cwd":\s*"(.*?)"'),
    re.compile(r"<cwd>(.*?)</cwd>"),  # Codex's environment_context
    re.compile(r"Primary working directory: (\S+)"),  # Claude Code's system prompt
)


def evaluator_condition(body: dict[str, Any]) -> str | None:
    """The condition when ``body`` is Claude Code's stop-condition evaluator request, else None."""
    if _EVALUATOR not in json.dumps(body.get("system", "")):
        return None
    messages = body.get("messages") or []
    last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
    content = last.get("content")
    blocks = content if isinstance(content, list) else [{"type": "text", "text": str(content or "")}]
    text = "\n".join(str(b.get("text", "")) for b in blocks if isinstance(b, dict))
    found = _CONDITION.search(text)
    return found.group(1) if found else text


def request_cwd(body: dict[str, Any]) -> Path | None:
    """The conversation's working folder, as the CLI told the model."""
    dumped = json.dumps(body)
    for pattern in _CWDS:
        found = pattern.search(dumped)
        if found:
            return Path(found.group(1).replace("\\\\", "\\"))
    return None


def _file_there(body: dict[str, Any], rel: str) -> bool:
    cwd = request_cwd(body)
    return cwd is not None and (cwd / rel).exists()


def judge_reply(script: dict[str, Any] | None, body: dict[str, Any]) -> dict[str, Any]:
    """The evaluator's JSON verdict for ``script``'s ``judge`` rule (no rule: never met)."""
    rule = (script or {}).get("judge") or {"verdict": "never"}
    if "file" in rule:
        if _file_there(body, str(rule["file"])):
            return {"ok": True, "reason": f"{rule['file']} exists in the working folder"}
        return {"ok": False, "reason": f"{rule['file']} does not exist yet"}
    if rule.get("verdict") == "ok":
        return {"ok": True, "reason": "the script says the condition holds"}
    if rule.get("verdict") == "impossible":
        return {"ok": False, "impossible": True, "reason": "the script says this can never be done"}
    return {"ok": False, "reason": "insufficient evidence in transcript"}


def gate_step(step: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """A step with ``when_file`` is taken once that file exists; until then its ``otherwise`` step (a text)."""
    if "when_file" not in step:
        return step
    if _file_there(body, str(step["when_file"])):
        return {k: v for k, v in step.items() if k not in ("when_file", "otherwise")}
    otherwise = step.get("otherwise") or {"text": f"waiting for {step['when_file']}"}
    return dict(otherwise)
