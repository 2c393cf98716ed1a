"""Quality and speed of the knowledge-base matcher on tests/data/kb_questions.tsv.

    .venv/bin/python benchmarks/kb_bench.py [--verbose] [--locale ru] [--rounds 20]

Reports top-1 and top-3 accuracy (the expected article among the first three offers), the precision
of "nothing" (questions that should match no article and got none) and queries per second.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from helpdesk.domain import Role, Topic  # noqa: E402
from helpdesk.rules.kb import KnowledgeBase, load_knowledge_base  # noqa: E402

QUESTIONS = ROOT / "tests" / "data" / "kb_questions.tsv"
NOTHING = "-"


@dataclass(frozen=True, slots=True)
class Question:
    role: Role | None
    topic: Topic | None
    expected: str
    text: str


@dataclass(frozen=True, slots=True)
class Report:
    total: int
    answerable: int
    top1: float
    top3: float
    nothing_precision: float
    missed_nothing: int
    qps: float
    failures: tuple[str, ...]


def read_questions(path: Path = QUESTIONS) -> list[Question]:
    questions: list[Question] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 4:
            raise ValueError(f"{path}:{number}: expected 4 tab-separated columns")
        role, topic, expected, text = parts
        questions.append(
            Question(
                Role(role) if role != NOTHING else None,
                Topic(topic) if topic != NOTHING else None,
                expected,
                text,
            )
        )
    return questions


def evaluate(kb: KnowledgeBase, questions: list[Question], locale: str = "ru", rounds: int = 1) -> Report:
    top1 = top3 = answerable = nothing_total = nothing_ok = missed = 0
    failures: list[str] = []
    for q in questions:
        found = [m.article.id for m in kb.search(q.text, locale, role=q.role, topic=q.topic, limit=3)]
        if q.expected == NOTHING:
            nothing_total += 1
            if found:
                failures.append(f"expected nothing, got {found}: {q.text}")
            else:
                nothing_ok += 1
            continue
        answerable += 1
        if found[:1] == [q.expected]:
            top1 += 1
        if q.expected in found:
            top3 += 1
        else:
            if not found:
                missed += 1
            failures.append(f"expected {q.expected}, got {found or 'nothing'}: {q.text}")
    started = time.perf_counter()
    for _ in range(rounds):
        for q in questions:
            kb.search(q.text, locale, role=q.role, topic=q.topic, limit=3)
    elapsed = time.perf_counter() - started
    return Report(
        total=len(questions),
        answerable=answerable,
        top1=top1 / answerable if answerable else 0.0,
        top3=top3 / answerable if answerable else 0.0,
        nothing_precision=nothing_ok / nothing_total if nothing_total else 1.0,
        missed_nothing=missed,
        qps=rounds * len(questions) / elapsed if elapsed > 0 else float("inf"),
        failures=tuple(failures),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--locale", default="ru")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--verbose", "-v", action="store_true", help="list the questions that failed")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    kb = load_knowledge_base(args.knowledge)
    load_ms = (time.perf_counter() - started) * 1000
    questions = read_questions(args.questions)
    report = evaluate(kb, questions, args.locale, args.rounds)
    print(f"articles:           {len(kb.all(args.locale))} ({args.locale}), loaded in {load_ms:.0f} ms")
    print(f"questions:          {report.total} ({report.answerable} answerable)")
    print(f"top-1 accuracy:     {report.top1:.1%}")
    print(f"top-3 accuracy:     {report.top3:.1%}   (target >= 85%)")
    print(f"nothing precision:  {report.nothing_precision:.1%}")
    print(f"answerable → none:  {report.missed_nothing}")
    print(f"speed:              {report.qps:,.0f} queries/s")
    if args.verbose:
        for failure in report.failures:
            print("  -", failure)
    return 0 if report.top3 >= 0.85 else 1


if __name__ == "__main__":
    raise SystemExit(main())
