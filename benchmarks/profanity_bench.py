"""Benchmark of the conduct filter (``helpdesk.rules.profanity``) against published filters from PyPI.

Run from the repository root::

    .venv/bin/python benchmarks/profanity_bench.py            # dev set + holdout, ours + peers
    .venv/bin/python benchmarks/profanity_bench.py --no-peers # ours only, no installs

Peers are installed on first use into ``benchmarks/.peers/<name>`` with ``pip install --target``
and imported from there; a peer that cannot be installed, imported or run is reported as
``unavailable: reason`` instead of failing the run. See ``benchmarks/README-profanity.md``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
PEERS_DIR = Path(__file__).resolve().parent / ".peers"
CATEGORIES = ("obscene", "insult", "english")
INITIALS = "lookalike-initials"
MIN_SECONDS = 2.0

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@dataclass(frozen=True)
class Row:
    label: bool
    category: str
    kind: str
    text: str


def load(path: Path) -> list[Row]:
    rows: list[Row] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t", 3)
        if len(parts) != 4 or parts[0] not in ("0", "1"):
            raise ValueError(f"{path}:{n}: expected label<TAB>category<TAB>kind<TAB>text")
        rows.append(Row(parts[0] == "1", parts[1], parts[2], parts[3]))
    return rows


@dataclass
class Scores:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    lookalike_fp: int = 0
    lookalike_n: int = 0
    initials_fp: int = 0  # kind lookalike-initials: teachers' initials («Петрова Е.Н.»), goal 0
    initials_n: int = 0
    fa_by: dict[str, list[int]] = field(default_factory=dict)  # look-alike kind -> [false alarms, total]
    recall_by: dict[str, list[int]] = field(default_factory=dict)  # key -> [hits, total]

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def lookalike_rate(self) -> float:
        return self.lookalike_fp / self.lookalike_n if self.lookalike_n else 0.0

    @property
    def other_fp(self) -> int:
        return self.lookalike_fp - self.initials_fp

    @property
    def other_n(self) -> int:
        return self.lookalike_n - self.initials_n

    def fa(self, kind: str) -> float:
        hits, total = self.fa_by.get(kind, [0, 0])
        return hits / total if total else float("nan")

    def rec(self, key: str) -> float:
        hits, total = self.recall_by.get(key, [0, 0])
        return hits / total if total else float("nan")


def score(rows: Sequence[Row], predictions: Sequence[bool]) -> Scores:
    s = Scores()
    for row, pred in zip(rows, predictions, strict=True):
        if row.label:
            if pred:
                s.tp += 1
            else:
                s.fn += 1
            for key in (f"cat:{row.category}", f"kind:{row.kind}",
                        "kind:disguised*" if row.kind.startswith("disguised") else ""):
                if key:
                    bucket = s.recall_by.setdefault(key, [0, 0])
                    bucket[0] += int(pred)
                    bucket[1] += 1
        else:
            if pred:
                s.fp += 1
            else:
                s.tn += 1
            if row.kind.startswith("lookalike"):
                s.lookalike_n += 1
                s.lookalike_fp += int(pred)
                bucket = s.fa_by.setdefault(row.kind, [0, 0])
                bucket[0] += int(pred)
                bucket[1] += 1
                if row.kind == INITIALS:
                    s.initials_n += 1
                    s.initials_fp += int(pred)
    return s


def throughput(predict_one: Callable[[str], bool], texts: Sequence[str], before_pass: Callable[[], None]
               | None = None, min_seconds: float = MIN_SECONDS) -> float:
    """Messages per second: classify the whole set repeatedly for at least ``min_seconds``."""
    n = 0
    elapsed = 0.0
    while elapsed < min_seconds:
        if before_pass is not None:
            before_pass()
        t0 = time.perf_counter()
        for t in texts:
            predict_one(t)
        elapsed += time.perf_counter() - t0
        n += len(texts)
    return n / elapsed


# --------------------------------------------------------------------------- filters


@dataclass
class Filter:
    name: str
    predict_one: Callable[[str], bool] | None = None
    predict_many: Callable[[Sequence[str]], list[bool]] | None = None
    unavailable: str = ""
    note: str = ""

    def predict(self, texts: Sequence[str]) -> list[bool]:
        if self.predict_many is not None:
            return self.predict_many(texts)
        assert self.predict_one is not None
        return [self.predict_one(t) for t in texts]


def ours() -> Filter:
    from helpdesk.rules.profanity import classify

    return Filter("helpdesk.rules.profanity (ours)", predict_one=lambda t: classify(t).violation)


def _pip_target(package: str, spec: str) -> tuple[Path, str]:
    """Install ``spec`` into benchmarks/.peers/<package>; return (path, error)."""
    target = PEERS_DIR / package
    marker = target / ".installed"
    if marker.exists():
        return target, ""
    target.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
           "--no-warn-script-location", "--target", str(target), spec]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return target, f"pip failed: {exc}"
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("ERROR")] or proc.stderr.splitlines()
        return target, "pip install failed: " + (lines[-1] if lines else f"exit {proc.returncode}")
    marker.write_text(spec + "\n", encoding="utf-8")
    return target, ""


def _with_path(target: Path) -> None:
    if str(target) not in sys.path:
        sys.path.insert(0, str(target))


def peer_detected_profanity() -> Filter:
    name = "detected-profanity"
    target, err = _pip_target("detected-profanity", "detected-profanity")
    if err:
        return Filter(name, unavailable=err)
    _with_path(target)
    from detected_profanity import contains_profanity  # type: ignore[import-not-found,import-untyped,unused-ignore]

    return Filter(name, predict_one=lambda t: bool(contains_profanity(t)))


def _nltk_stopwords_substitute(target: Path) -> str:
    """check-swear needs NLTK's Russian stop-word list, which NLTK downloads at run time (no network
    here). We write the list of the ``stop-words`` PyPI package in NLTK's corpus layout instead."""
    data = target / "nltk_data" / "corpora" / "stopwords"
    russian = data / "russian"
    if russian.exists():
        return ""
    sw_target, err = _pip_target("stop-words", "stop-words")
    if err:
        return "NLTK stopwords corpus needs a download; substitute failed: " + err
    _with_path(sw_target)
    try:
        from stop_words import get_stop_words  # type: ignore[import-not-found,import-untyped,unused-ignore]

        words = get_stop_words("russian")
    except Exception as exc:
        return f"NLTK stopwords corpus needs a download; substitute failed: {exc!r}"
    data.mkdir(parents=True, exist_ok=True)
    russian.write_text("\n".join(words) + "\n", encoding="utf-8")
    (data / "README").write_text("substitute built from the stop-words package\n", encoding="utf-8")
    return ""


def peer_check_swear() -> Filter:
    name = "check-swear"
    target, err = _pip_target("check-swear", "check-swear")
    if err:
        return Filter(name, unavailable=err)
    err = _nltk_stopwords_substitute(target)
    if err:
        return Filter(name, unavailable=err)
    os.environ["NLTK_DATA"] = str(target / "nltk_data")
    _with_path(target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import nltk  # type: ignore[import-not-found,import-untyped,unused-ignore]

        nltk.data.path.insert(0, str(target / "nltk_data"))
        nltk.download = lambda *a, **k: False  # never reach for the network
        from check_swear import SwearingCheck  # type: ignore[import-not-found,import-untyped,unused-ignore]

        checker = SwearingCheck()

    def many(texts: Sequence[str]) -> list[bool]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [bool(x) for x in checker.predict(list(texts))]

    def one(text: str) -> bool:
        return many([text])[0]

    return Filter(name, predict_one=one, predict_many=many,
                  note="NLTK Russian stop words substituted from the `stop-words` package (no download)")


def peer_better_profanity() -> Filter:
    name = "better-profanity"
    target, err = _pip_target("better-profanity", "better-profanity")
    if err:
        return Filter(name, unavailable=err)
    _with_path(target)
    from better_profanity import profanity  # type: ignore[import-not-found,import-untyped,unused-ignore]

    profanity.load_censor_words()
    return Filter(name, predict_one=lambda t: bool(profanity.contains_profanity(t)),
                  note="English word list only")


PEERS: tuple[Callable[[], Filter], ...] = (peer_check_swear, peer_detected_profanity, peer_better_profanity)


def load_peer(factory: Callable[[], Filter], probe: Sequence[str]) -> Filter:
    name = factory.__name__.removeprefix("peer_").replace("_", "-")
    try:
        f = factory()
        if not f.unavailable:
            f.predict(list(probe))  # smoke test: crashes are reported, not raised
        return f
    except Exception as exc:
        detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return Filter(name, unavailable=f"crashed: {detail[:200]}")


# --------------------------------------------------------------------------- report


def fmt(x: float) -> str:
    return "–" if x != x else f"{x:.3f}"


def table(title: str, results: list[tuple[Filter, Scores | None, float | None]]) -> str:
    lines = [f"### {title}", "",
             "| filter | precision | recall | F1 | insult recall | look-alike false alarms: initials (goal 0)"
             " | other look-alikes (goal < 1%) | obscene / insult / english recall | msgs/s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for f, s, speed in results:
        if s is None:
            lines.append(f"| {f.name} | unavailable: {f.unavailable} | | | | | | | |")
            continue
        cats = " / ".join(fmt(s.rec(f"cat:{c}")) for c in CATEGORIES)
        ini = _ratio(s.initials_fp, s.initials_n)
        other = _ratio(s.other_fp, s.other_n)
        sp = f"{speed:,.0f}" if speed is not None else "–"
        lines.append(f"| {f.name} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {fmt(s.rec('cat:insult'))}"
                     f" | {ini} | {other} | {cats} | {sp} |")
    return "\n".join(lines)


def _ratio(hits: int, total: int) -> str:
    return f"{hits}/{total} ({100 * hits / total:.1f}%)" if total else "–"


def lookalike_table(rows: Sequence[Row], results: list[tuple[Filter, Scores | None, float | None]]) -> str:
    kinds = sorted({r.kind for r in rows if not r.label and r.kind.startswith("lookalike")})
    ok = [(f, s) for f, s, _ in results if s is not None]
    head = "| look-alike kind (false alarms) | n | " + " | ".join(f.name for f, _ in ok) + " |"
    lines = [head, "|---|---|" + "---|" * len(ok)]
    for k in kinds:
        total = ok[0][1].fa_by.get(k, [0, 0])[1] if ok else 0
        lines.append(f"| {k} | {total} | " + " | ".join(_ratio(*s.fa_by.get(k, [0, 0])) for _, s in ok) + " |")
    return "\n".join(lines)


def kinds_table(rows: Sequence[Row], results: list[tuple[Filter, Scores | None, float | None]]) -> str:
    kinds = sorted({f"kind:{r.kind}" for r in rows if r.label})
    if any(r.kind.startswith("disguised") for r in rows if r.label):
        kinds.append("kind:disguised*")
    ok = [(f, s) for f, s, _ in results if s is not None]
    head = "| kind (recall) | n | " + " | ".join(f.name for f, _ in ok) + " |"
    sep = "|---|---|" + "---|" * len(ok)
    lines = [head, sep]
    for k in kinds:
        total = ok[0][1].recall_by.get(k, [0, 0])[1] if ok else 0
        lines.append(f"| {k.removeprefix('kind:')} | {total} | " + " | ".join(fmt(s.rec(k)) for _, s in ok) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-peers", action="store_true", help="benchmark helpdesk.rules.profanity only")
    ap.add_argument("--seconds", type=float, default=MIN_SECONDS, help="minimum timing per filter")
    ap.add_argument("--errors", action="store_true", help="list our misclassified lines")
    args = ap.parse_args(argv)

    sets = {"dev set": load(DATA / "profanity_devset.tsv")}
    holdout = DATA / "profanity_holdout.tsv"
    if holdout.exists():
        sets["holdout"] = load(holdout)
    names = DATA / "profanity_holdout_names.tsv"
    if names.exists():
        sets["look-alike holdout"] = load(names)

    from helpdesk.rules.profanity import classify
    from helpdesk.rules.profanity.matcher import analyse

    filters = [ours()]
    if not args.no_peers:
        probe = ["привет", "тест"]
        filters.extend(load_peer(factory, probe) for factory in PEERS)

    dev_texts = [r.text for r in sets["dev set"]]
    speeds: dict[str, float | None] = {}
    for f in filters:
        if f.unavailable or f.predict_one is None:
            speeds[f.name] = None
            continue
        try:
            if f.predict_many is not None:  # batch API: time whole-set batches
                speeds[f.name] = _batch_speed(f.predict_many, dev_texts, args.seconds)
            else:
                speeds[f.name] = throughput(f.predict_one, dev_texts, None, args.seconds)
        except Exception as exc:
            f.unavailable = f"crashed while timing: {exc!r}"[:200]
            speeds[f.name] = None
    cold = throughput(lambda t: classify(t).violation, dev_texts, analyse.cache_clear, args.seconds)

    print("# Conduct filter benchmark\n")
    print(f"Python {sys.version.split()[0]}, one core; msgs/s = the whole dev set classified repeatedly for "
          f">= {args.seconds:g} s after start-up (warm token cache, as in production). Ours with the token "
          f"cache cleared before every pass: {cold:,.0f} msgs/s.\n")
    for title, rows in sets.items():
        texts = [r.text for r in rows]
        results: list[tuple[Filter, Scores | None, float | None]] = []
        for f in filters:
            if f.unavailable:
                results.append((f, None, None))
                continue
            try:
                preds = f.predict(texts)
            except Exception as exc:
                f.unavailable = f"crashed: {exc!r}"[:200]
                results.append((f, None, None))
                continue
            results.append((f, score(rows, preds), speeds.get(f.name)))
        n_pos = sum(r.label for r in rows)
        print(table(f"{title}: {len(rows)} messages, {n_pos} violations, "
                    f"{sum(r.kind.startswith('lookalike') for r in rows)} look-alikes", results))
        print()
        print(lookalike_table(rows, results))
        print()
        print(kinds_table(rows, results))
        print()
        if args.errors:
            for r in rows:
                v = classify(r.text)
                if v.violation != r.label or (r.label and v.category != r.category):
                    print(f"  {'FN' if r.label else 'FP'} [{r.category}/{r.kind}] -> {v.category}: {r.text}")
            print()
    notes = [f"* {f.name}: {f.note}" for f in filters if f.note and not f.unavailable]
    if notes:
        print("Notes:")
        print("\n".join(notes))
    return 0


def _batch_speed(batch: Callable[[Sequence[str]], list[bool]], texts: Sequence[str], min_seconds: float) -> float:
    n = 0
    elapsed = 0.0
    while elapsed < min_seconds:
        t0 = time.perf_counter()
        batch(texts)
        elapsed += time.perf_counter() - t0
        n += len(texts)
    return n / elapsed


if __name__ == "__main__":
    raise SystemExit(main())
