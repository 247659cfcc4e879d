"""Score the anti-«отписка» checker on the labelled answers: blind and tuning splits.

    .venv/bin/python bench/moderation.py                  # both splits, one line each
    .venv/bin/python bench/moderation.py --errors tuning  # also list the tuning split's mistakes
    .venv/bin/python bench/moderation.py --json           # the figures as JSON

Prints, per split: precision and recall for "formal" (the answers sent straight back), the
share of "doubtful" (sent to a moderator), how many substantive answers were bounced, and the
milliseconds per answer (median and 95th percentile, dictionaries already loaded).

The blind split (tests/data/answers_blind.jsonl) was written before the rules and is frozen:
never tune on it (tests/data/README.md). Look at the tuning split's mistakes instead.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from appeals.moderation import ModerationConfig, QualityReport, Verdict, check_answer  # noqa: E402

DATA = ROOT / "tests" / "data"
SPLITS = {"blind": DATA / "answers_blind.jsonl", "tuning": DATA / "answers_tuning.jsonl"}
CONFIG = ROOT / "config" / "moderation.toml"


@dataclass
class Scores:
    split: str
    rows: int
    formal: int  # labelled formal
    precision: float  # of the verdict "formal"
    recall: float
    doubtful_share: float
    substantive_bounced: int  # labelled substantive, verdict formal
    formal_passed: int  # labelled formal, verdict substantive
    ms_median: float
    ms_p95: float

    def line(self) -> str:
        return (
            f"{self.split:<7} n={self.rows:<4} formal={self.formal:<4} precision={self.precision:.2f} "
            f"recall={self.recall:.2f} doubtful={self.doubtful_share:.0%} "
            f"substantive_bounced={self.substantive_bounced} formal_passed={self.formal_passed} "
            f"ms/answer median={self.ms_median:.1f} p95={self.ms_p95:.1f}"
        )


def load_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_config(path: Path = CONFIG) -> ModerationConfig:
    return ModerationConfig.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))


def check_row(row: dict, config: ModerationConfig) -> QualityReport:
    return check_answer(
        row["answer"],
        appeal_text=row["appeal"],
        attachments=row["attachments"],
        citizen_contacts=row.get("citizen_contacts", []),
        config=config,
    )


def evaluate(split: str, rows: list[dict], config: ModerationConfig) -> tuple[Scores, list[tuple[dict, QualityReport]]]:
    check_row(rows[0], config)  # the dictionaries load once per process: not part of the timing
    results, times = [], []
    for row in rows:
        start = time.perf_counter()
        report = check_row(row, config)
        times.append((time.perf_counter() - start) * 1000)
        results.append((row, report))
    tp = sum(r.verdict is Verdict.formal and row["label"] == "formal" for row, r in results)
    fp = sum(r.verdict is Verdict.formal and row["label"] != "formal" for row, r in results)
    fn = sum(r.verdict is not Verdict.formal and row["label"] == "formal" for row, r in results)
    doubtful = sum(r.verdict is Verdict.doubtful for _, r in results)
    passed = sum(r.verdict is Verdict.substantive and row["label"] == "formal" for row, r in results)
    times.sort()
    scores = Scores(
        split=split,
        rows=len(rows),
        formal=sum(row["label"] == "formal" for row in rows),
        precision=tp / (tp + fp) if tp + fp else 1.0,
        recall=tp / (tp + fn) if tp + fn else 1.0,
        doubtful_share=doubtful / len(rows),
        substantive_bounced=fp,
        formal_passed=passed,
        ms_median=statistics.median(times),
        ms_p95=times[int(0.95 * (len(times) - 1))],
    )
    return scores, results


def mistakes(results: list[tuple[dict, QualityReport]]) -> list[str]:
    lines = []
    for row, report in results:
        wrong = (report.verdict is Verdict.formal) != (row["label"] == "formal")
        if wrong or (report.verdict is Verdict.doubtful):
            mark = "WRONG" if wrong else "doubt"
            codes = ",".join(r.code.value for r in report.reasons)
            lines.append(f"{mark} {row['id']} {row['label']}->{report.verdict.value} {report.score:g} [{codes}]")
            lines.append(f"      {row['answer']}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--errors", choices=["tuning", "blind"], help="list one split's mistakes and doubts")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--config", type=Path, default=CONFIG)
    args = parser.parse_args(argv)
    config = load_config(args.config)
    report = {}
    for split, path in SPLITS.items():
        scores, results = evaluate(split, load_rows(path), config)
        report[split] = asdict(scores)
        if not args.json:
            print(scores.line())
        if args.errors == split:
            print("\n".join(mistakes(results)))
    if args.json:
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
