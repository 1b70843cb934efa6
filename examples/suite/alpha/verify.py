"""Pass when answer.txt holds the expected answer; print one JSON verdict and exit 0 (passed) or 1 (failed)."""

import json
import sys
from pathlib import Path

EXPECTED = Path("expected.txt").read_text().strip()
try:
    got = Path("answer.txt").read_text().strip()
except OSError:
    got = ""
passed = got == EXPECTED
print(json.dumps({"status": "passed" if passed else "failed", "score": 1.0 if passed else 0.0}))
sys.exit(0 if passed else 1)
