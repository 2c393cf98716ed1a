"""Quality, speed and cost of the knowledge-base matcher.

    .venv/bin/python benchmarks/kb_bench.py [--verbose] [--set holdout|dev|both] [--rounds 5]

The figure that counts is on the FROZEN held-out set ``tests/data/kb_holdout.tsv`` (516 questions written
before the matcher was changed for issue 17, at least 100 in the words of each role). The dev set
``tests/data/kb_questions.tsv`` is the one the matcher is tuned on; its figure says little about unseen
questions.

Reports top-1 and top-3 accuracy (the expected article among the first three offers), the precision of
"nothing" (questions no article covers that got no offer), per role, the queries per second, the time to
load the knowledge base (the bot's start-up cost of it, in a fresh process: imports included) and the
memory it adds (peak RSS of this process before and after).

Last measured (branch i17-tune, README "Reference materials"): held-out top-3 90.8%, «nothing» precision 92.2%
(the first lemma matcher: 84.5% / 84.3%); dev set (1148 questions) 96.7% / 91.6%; start-up 0.6-0.7 s, +35 MB.
Run the held-out set rarely, and never tune on its failures (``--verbose`` lists them: use it with ``--set dev``).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from helpdesk.domain import Role, Topic  # noqa: E402

if False:  # pragma: no cover - typing only; the import is timed in main()
    from helpdesk.rules.kb import KnowledgeBase

HOLDOUT = ROOT / "tests" / "data" / "kb_holdout.tsv"
DEV = ROOT / "tests" / "data" / "kb_questions.tsv"
NOTHING = frozenset({"-", "none"})


@dataclass(frozen=True, slots=True)
class Question:
    role: Role | None
    topic: Topic | None
    expected: str  # an article id, or "-" / "none"
    text: str

    @property
    def answerable(self) -> bool:
        return self.expected not in NOTHING


@dataclass(frozen=True, slots=True)
class Report:
    total: int
    answerable: int
    top1: float
    top3: float
    nothing_total: int
    nothing_precision: float
    missed_nothing: int
    qps: float
    by_role: dict[str, tuple[float, float]]  # role -> (top-3, nothing precision)
    failures: tuple[str, ...]


def read_questions(path: Path) -> list[Question]:
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
                Role(role) if role not in NOTHING else None,
                Topic(topic) if topic not in NOTHING else None,
                "none" if expected in NOTHING else expected,
                text,
            )
        )
    return questions


def evaluate(kb: KnowledgeBase, questions: list[Question], locale: str = "ru", rounds: int = 1) -> Report:
    top1 = top3 = answerable = nothing_total = nothing_ok = missed = 0
    role_hits: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # top3, answerable, ok, nothing
    failures: list[str] = []
    for q in questions:
        found = [m.article.id for m in kb.search(q.text, locale, role=q.role, topic=q.topic, limit=3)]
        counts = role_hits[q.role.value if q.role else "-"]
        if not q.answerable:
            nothing_total += 1
            counts[3] += 1
            if found:
                failures.append(f"[{q.role}] expected nothing, got {found}: {q.text}")
            else:
                nothing_ok += 1
                counts[2] += 1
            continue
        answerable += 1
        counts[1] += 1
        if found[:1] == [q.expected]:
            top1 += 1
        if q.expected in found:
            top3 += 1
            counts[0] += 1
        else:
            if not found:
                missed += 1
            failures.append(f"[{q.role}] expected {q.expected}, got {found or 'nothing'}: {q.text}")
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
        nothing_total=nothing_total,
        nothing_precision=nothing_ok / nothing_total if nothing_total else 1.0,
        missed_nothing=missed,
        qps=rounds * len(questions) / elapsed if elapsed > 0 else float("inf"),
        by_role={
            role: (c[0] / c[1] if c[1] else 1.0, c[2] / c[3] if c[3] else 1.0)
            for role, c in sorted(role_hits.items())
        },
        failures=tuple(failures),
    )


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def print_report(name: str, report: Report, verbose: bool) -> None:
    print(f"\n== {name}: {report.total} questions ({report.answerable} answerable, {report.nothing_total} none)")
    print(f"top-1 accuracy:     {report.top1:.1%}")
    print(f"top-3 accuracy:     {report.top3:.1%}   (goal >= 90%)")
    print(f"nothing precision:  {report.nothing_precision:.1%}   (goal >= 90%)")
    print(f"answerable → none:  {report.missed_nothing}")
    print(f"speed:              {report.qps:,.0f} queries/s")
    for role, (top3, nothing) in report.by_role.items():
        print(f"  {role:4} top-3 {top3:6.1%}   nothing {nothing:6.1%}")
    if verbose:
        for failure in report.failures:
            print("  -", failure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--set", choices=("holdout", "dev", "both"), default="both")
    parser.add_argument("--questions", type=Path, help="another question file instead of --set")
    parser.add_argument("--locale", default="ru")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--vectors", action="store_true", help="with the semantic signal (navec vectors)")
    parser.add_argument("--verbose", "-v", action="store_true", help="list the questions that failed")
    args = parser.parse_args(argv)

    rss_before = _rss_mb()
    started = time.perf_counter()
    from helpdesk.rules.kb import load_knowledge_base

    vectors = None
    if args.vectors:
        from helpdesk.rules.kb_vectors import load_navec

        vectors = load_navec()
        if vectors is None:
            parser.error("--vectors: natasha (with the navec vectors) is not installed")
    kb = load_knowledge_base(args.knowledge, vectors=vectors)
    kb.search("прогрев", args.locale)  # anything loaded lazily is loaded now
    load_ms = (time.perf_counter() - started) * 1000
    rss_after = _rss_mb()
    print(f"articles:           {len(kb.all(args.locale))} ({args.locale})")
    print(f"start-up:           {load_ms:.0f} ms (import of the matcher + load + first search)")
    print(f"memory:             +{rss_after - rss_before:.0f} MB peak RSS ({rss_before:.0f} → {rss_after:.0f} MB)")
    sets: list[tuple[str, Path]]
    if args.questions:
        sets = [(str(args.questions), args.questions)]
    else:
        sets = [("dev set (tuned on)", DEV), ("FROZEN held-out set", HOLDOUT)]
        if args.set != "both":
            sets = [s for s in sets if (s[1] == HOLDOUT) == (args.set == "holdout")]
    for name, path in sets:
        print_report(name, evaluate(kb, read_questions(path), args.locale, args.rounds), args.verbose)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
