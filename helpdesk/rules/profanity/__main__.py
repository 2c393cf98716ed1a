"""``python -m helpdesk.rules.profanity``: one JSON verdict per UTF-8 line of standard input, in order."""

from __future__ import annotations

import io
import json
import sys

from . import classify


def main() -> int:
    stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace", newline=None)
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n")
    for line in stdin:
        v = classify(line.rstrip("\r\n"))
        out.write(
            json.dumps(
                {
                    "violation": v.violation,
                    "category": v.category.value if v.category else None,
                    "matches": list(v.matches),
                    "reported": list(v.reported),
                },
                ensure_ascii=False,
            )
        )
        out.write("\n")
    out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
