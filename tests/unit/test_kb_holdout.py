"""The knowledge base's held-out questions are frozen (issue 17): written before the matcher was changed, never
tuned on. Their figures are a benchmark (benchmarks/kb_bench.py), not a test; this checks the set itself."""

from __future__ import annotations

import hashlib
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOLDOUT = ROOT / "tests" / "data" / "kb_holdout.tsv"
FROZEN_SHA256 = "c733847b6f871611fb2668c668b3786ba56b2c7dc9981d666456d2c9b5d650c6"


def test_the_held_out_set_is_unchanged_since_it_was_frozen() -> None:
    assert hashlib.sha256(HOLDOUT.read_bytes()).hexdigest() == FROZEN_SHA256, (
        "tests/data/kb_holdout.tsv is frozen: write new questions into a new held-out file"
    )


def test_the_held_out_set_has_a_hundred_questions_per_role_and_known_articles() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from kb_bench import read_questions

    questions = read_questions(HOLDOUT)
    per_role = Counter(q.role.value for q in questions if q.role is not None)
    assert {role: n >= 100 for role, n in per_role.items()} == dict.fromkeys(("par", "stu", "tch", "cls", "adm"), True)
    nothing = sum(not q.answerable for q in questions)
    assert nothing >= 0.15 * len(questions)
    ids = {p.stem for p in (ROOT / "knowledge" / "ru").glob("*.md") if p.stem.lower() != "readme"}
    assert {q.expected for q in questions if q.answerable} <= ids
