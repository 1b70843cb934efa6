"""Write the answer the task's hint names into answer.txt (a stand-in for a tool that finds the fix)."""
from pathlib import Path

hint = Path("hint.txt")
if hint.is_file():
    Path("answer.txt").write_text(hint.read_text())
    print('{"fixed": true}')
else:
    print('{"fixed": false, "why": "no hint in this task"}')
