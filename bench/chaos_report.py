"""The chaos run's verdict: every check with its figure, and the summary table."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import Any

from bench.chaos_checks import Findings
from bench.chaos_operators import UpdateSample
from bench.chaos_stack import Window
from stack.text_table import text_table

# A dead worker or server cannot answer in seconds; and without PostgreSQL an Update waits for its
# step to be stored (a step is durable before it returns), so the database outage has no promise either.
EXEMPT = ("kill", "server_restart", "db_outage")
OUTAGES = ("db_outage", "webhook_outage")  # the engine must answer through these
NOT_ANSWERED = ("timeout", "error", "unfinished")
EXAMPLES = 10


def bucket(sample: UpdateSample, windows: list[Window], recovery: float) -> str:
    """Where an Update belongs: the outage it was issued in; else a kill or restart it overlapped
    (until the engine had recovered); else calm."""
    for w in windows:
        if w.kind in OUTAGES and w.start <= sample.start <= w.end:
            return w.kind
    for w in windows:
        if w.kind in EXEMPT and sample.start < w.recovered + recovery and sample.end > w.start:
            return w.kind
    return "calm"


def percentile(values: list[float], p: float) -> float:
    """Nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


def latency(samples: list[UpdateSample]) -> dict[str, float]:
    values = [s.latency for s in samples]
    return {
        "count": len(values),
        "p50": round(percentile(values, 50), 3),
        "p99": round(percentile(values, 99), 3),
        "max": round(max(values, default=0.0), 3),
    }


def report(
    *,
    opts: dict[str, Any],
    findings: Findings,
    samples: list[UpdateSample],
    windows: list[Window],
    gave_up: list[str],
    unexpected_exits: list[str],
    unsettled: list[str],
    created: int,
    drivers: int,
    wall_seconds: float,
    worker_cpu: float | None,
    load: dict[str, float],
    routed_seconds: float,
    webhook_refusals: int,
) -> dict[str, Any]:
    limit, recovery = float(opts["update_limit"]), float(opts["recovery_seconds"])
    buckets: dict[str, list[UpdateSample]] = {}
    for s in samples:
        buckets.setdefault(bucket(s, windows, recovery), []).append(s)
    checked = [s for name, group in buckets.items() if name not in EXEMPT for s in group]
    slow = [s for s in checked if s.latency > limit or s.outcome in NOT_ANSWERED]
    unfinished = [s for s in samples if s.outcome in NOT_ANSWERED]
    uncovered = [w.kind for w in windows if w.kind in OUTAGES and not any(w.start <= s.start <= w.end for s in samples)]
    faults = Counter(w.kind for w in windows)

    def check(key: str, name: str, value: object, passed: bool, examples: list[str] | None = None) -> dict[str, Any]:
        return {"id": key, "check": name, "value": value, "passed": passed, "examples": (examples or [])[:EXAMPLES]}

    checks = [
        check("created", "appeals submitted and created", f"{created}/{findings.appeals}", created == findings.appeals),
        check("lost", "lost", len(findings.lost), not findings.lost, findings.lost),
        check("duplicated", "duplicated", len(findings.duplicated), not findings.duplicated, findings.duplicated),
        check("stuck", "stuck", len(findings.stuck), not findings.stuck, findings.stuck),
        check("failed", "failed workflows", len(findings.failed), not findings.failed, findings.failed),
        check(
            "unreadable",
            "appeals whose timeline cannot be read",
            len(findings.unreadable),
            not findings.unreadable,
            findings.unreadable,
        ),
        check(
            "timers",
            "open appeals without their next timer",
            f"{len(findings.missing_timers)} of {findings.timers_checked}",
            not findings.missing_timers,
            findings.missing_timers,
        ),
        check(
            "replay",
            "replay failures",
            f"{len(findings.replay_failures)} of {findings.appeals}"
            + (
                f" ({len(findings.regrouped)} more only with the recorded Update grouping)"
                if findings.regrouped
                else ""
            ),
            not findings.replay_failures,
            [f"{k}: {v}" for k, v in findings.replay_failures.items()],
        ),
        check(
            "undelivered",
            "undelivered after settling",
            len(findings.undelivered),
            not findings.undelivered,
            findings.undelivered,
        ),
        check(
            "update_latency",
            f"updates over {limit:g}s (outside kills/restarts)",
            f"{len(slow)} of {len(checked)}",
            not slow,
            [_describe(s) for s in sorted(slow, key=lambda s: -s.latency)],
        ),
        check(
            "update_unanswered",
            "updates never answered",
            len(unfinished),
            not unfinished,
            [_describe(s) for s in unfinished],
        ),
        check("coverage", "outages with no update issued in them", len(uncovered), not uncovered, uncovered),
    ]
    outcomes = Counter(s.outcome for s in samples)
    rejected = [_describe(s) for s in samples if s.outcome == "rejected"]
    return {
        "passed": all(c["passed"] for c in checks),
        "checks": checks,
        "latency": {"all": latency(samples)} | {name: latency(group) for name, group in sorted(buckets.items())},
        "figures": {
            "wall_seconds": round(wall_seconds, 1),
            "worker_cpu_percent": worker_cpu,
            "load_average": load,
            "routed_seconds": round(routed_seconds, 1),
            "appeals": findings.appeals,
            "open_at_end": findings.open_appeals,
            "closed_at_end": findings.closed_appeals,
            "driven": drivers,
            "updates": len(samples),
            "update_outcomes": dict(outcomes),
            "update_retries": sum(s.retries for s in samples),
            "kills": faults["kill"],
            "server_restarts": faults["server_restart"],
            "db_outages": faults["db_outage"],
            "webhook_outages": faults["webhook_outage"],
            "events": findings.events,
            "timeline_entries": findings.timeline_entries,
            "notifications": findings.notifications,
            "publications": findings.publications,
            "webhook_deliveries": findings.deliveries,
            "webhook_refusals": webhook_refusals,
            "workflow_task_timeouts": findings.task_timeouts,
            "workflow_task_failures": findings.task_failures,
            "replayed_with_recorded_grouping": len(findings.regrouped),
            "webhook_redeliveries_across_kills": len(findings.redelivered),
        },
        "faults": [asdict(w) | {"seconds": round(w.end - w.start, 1)} for w in windows],
        "notes": {
            "rejected_updates": rejected[:EXAMPLES],
            "replayed_with_the_recorded_update_grouping": findings.regrouped[:EXAMPLES],
            "redelivered_across_a_kill_same_key": findings.redelivered[:EXAMPLES],
            "officials_gave_up": gave_up[:EXAMPLES],
            "unexpected_worker_exits": unexpected_exits,
            "still_moving_after_settling": unsettled[:EXAMPLES],
        },
        "options": opts,
    }


def _describe(s: UpdateSample) -> str:
    extra = f" ({s.error})" if s.error else ""
    return f"{s.workflow_id} {s.action}: {s.outcome} in {s.latency:.1f}s after {s.retries} retries{extra}"


def summary_table(result: dict[str, Any]) -> str:
    f = result["figures"]
    lat = result["latency"]
    rows: list[list[object]] = [[c["check"], c["value"], "ok" if c["passed"] else "FAIL"] for c in result["checks"]]
    rows.append(["update latency p50 / p99 / max", _lat(lat["all"]), ""])
    for name, figures in lat.items():
        if name != "all":
            rows.append([f"  {name.replace('_', ' ')}", _lat(figures), "exempt" if name in EXEMPT else ""])
    rows += [
        ["updates (ok / rejected / retries)", _outcomes(f), ""],
        ["kills / server restarts", f"{f['kills']} / {f['server_restarts']}", ""],
        ["db outages / webhook outages", f"{f['db_outages']} / {f['webhook_outages']}", ""],
        ["events stored / in the timelines", f"{f['events']} / {f['timeline_entries']}", ""],
        ["notifications / publications", f"{f['notifications']} / {f['publications']}", ""],
        ["webhook deliveries / refused (500)", f"{f['webhook_deliveries']} / {f['webhook_refusals']}", ""],
        ["  repeated across a kill or DB outage (same key)", f["webhook_redeliveries_across_kills"], ""],
        ["workflow task timeouts / failures", f"{f['workflow_task_timeouts']} / {f['workflow_task_failures']}", ""],
        ["open / closed at the end", f"{f['open_at_end']} / {f['closed_at_end']}", ""],
        ["wall time", f"{f['wall_seconds']:.0f}s (routing {f['routed_seconds']:.0f}s)", ""],
        ["worker CPU, mean over the run", f"{f['worker_cpu_percent']}% of a core", ""],
        ["machine load average, mean / max", _load(f["load_average"]), ""],
    ]
    rows += [[f"  {w['at']} {w['kind'].replace('_', ' ')}", w["note"], ""] for w in result["faults"]]
    lines = [text_table(["check", "result", ""], rows), ""]
    for c in result["checks"]:
        if not c["passed"]:
            lines.append(f"{c['check']}:")
            lines += [f"  - {e}" for e in c["examples"]]
    for name, notes in result["notes"].items():
        if notes:
            lines.append(f"{name.replace('_', ' ')}:")
            lines += [f"  - {n}" for n in notes]
    lines.append("PASSED" if result["passed"] else "FAILED")
    return "\n".join(lines)


def _load(load: dict[str, float]) -> str:
    if not load:
        return "-"
    return f"{load['mean']:.1f} / {load['max']:.1f} on {load['cpus']:.0f} CPUs"


def _lat(figures: dict[str, float]) -> str:
    return f"{figures['p50']:.2f} / {figures['p99']:.2f} / {figures['max']:.2f} s  (n={figures['count']:.0f})"


def _outcomes(f: dict[str, Any]) -> str:
    outcomes = f["update_outcomes"]
    return f"{outcomes.get('ok', 0)} / {outcomes.get('rejected', 0)} / {f['update_retries']}"
