"""Issue 21's targets in one table, met or missed, from what the benchmarks last wrote.

Reads, and runs nothing:
- chat: bench/RESULTS.md, the newest section of each database setup written by `make bench-chat`
  (quick or full, by its date and finishing time; its table's rows that end in a verdict, "met" or
  "MISSED", with their ratio);
- feed: bench/out/feed-results-*.json (bench/feed_bench.py, one file per database and seed);
- connect storm: bench/out/storm-*.json (bench/storm_bench.py, one file per setup).

A target with no figures yet shows "not measured". `make bench` ends with this table.

    .venv/bin/python bench/summary.py
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"
OUT = ROOT / "bench" / "out"

# Feed targets (issue 21): ms, and the 1M / 100k ratios.
RANKED_FIRST_MS = 25.0
LATEST_FIRST_MS = 15.0
RANKED_LATER_MS = 10.0
FLAT_RATIO = 1.2
QUALITY_RATIO = 1.8
# Connect storm.
STORM_SECONDS = 20.0
CONNECT_RATIO = 1.2


def verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("met" if ok else "MISSED")


def chat_rows() -> list[tuple[str, str, str, str]]:
    """(target, setup, measured, verdict) from the newest chat section of each database setup in RESULTS.md.

    A quick run and a full one of the same setup are one kind: the newer stands (an old quick run,
    judged against targets of its day, must not sit beside today's full one)."""
    if not RESULTS.exists():
        return []
    newest: dict[str, tuple[tuple[str, str], str, list[str]]] = {}  # setup -> (when, label, lines)
    for part in RESULTS.read_text().split("\n## ")[1:]:
        heading, _, body = part.partition("\n")
        if "Command: `make bench-chat" not in body[:600]:
            continue
        date = heading[:10]
        rest = re.sub(r"^\d{4}-\d{2}-\d{2}\s*", "", heading)
        quick = "(quick)" in rest
        setup = rest.replace("(quick)", "").strip(" ,") or "SQLite + in-memory"
        finished = re.search(r"finished (\d{2}:\d{2}) UTC", body[:600])
        when = (date, finished.group(1) if finished else "")
        if setup not in newest or when > newest[setup][0]:
            label = f"{setup}{' (quick)' if quick else ''} ({date}{' ' + when[1] if when[1] else ''} UTC)"
            newest[setup] = (when, label, body.splitlines())
    rows = []
    for _setup, (_when, label, lines) in sorted(newest.items()):
        for line in lines:
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if len(cells) >= 5 and re.match(r"^(met|MISSED)\b", cells[-1]):
                ratio = re.search(r"\(([^)]*)\)", cells[-1])
                measured = ratio.group(1) if ratio else cells[1]
                rows.append((f"chat: {cells[0]} ({cells[-2]})", label, measured, cells[-1].split()[0]))
    return rows


def feed_rows() -> list[tuple[str, str, str, str]]:
    rows = []
    for path in sorted(OUT.glob("feed-results-*.json")):
        run = json.loads(path.read_text())
        setup = f"{path.stem.removeprefix('feed-results-')} (seed {run.get('seed', 1)}, {run.get('finished', '?')})"
        sizes = {row[0]: row[1] for row in run.get("rows", []) if row and row[1]}
        small, large = sizes.get(100_000), sizes.get(1_000_000)

        def p50(size_row, page):
            return size_row["latency"][page]["p50"] if size_row else None

        ranked_1m, ranked_100k = p50(large, "ranked first page"), p50(small, "ranked first page")
        latest_1m, latest_100k = p50(large, "latest first page"), p50(small, "latest first page")
        later = max((p50(r, "ranked later page") for r in (small, large) if r), default=None)
        both = ranked_1m is not None and ranked_100k is not None
        rows.append(
            (
                f"feed: ranked first page p50 at 1M <= {RANKED_FIRST_MS:g} ms",
                setup,
                f"{ranked_1m:.1f} ms" if ranked_1m is not None else "-",
                verdict(None if ranked_1m is None else ranked_1m <= RANKED_FIRST_MS),
            )
        )
        rows.append(
            (
                f"feed: ranked first page 1M / 100k <= {FLAT_RATIO:g}",
                setup,
                f"{ranked_1m / ranked_100k:.2f}x" if both else "-",
                verdict(ranked_1m / ranked_100k <= FLAT_RATIO if both else None),
            )
        )
        flat = latest_1m is not None and latest_100k is not None
        worst = max((v for v in (latest_1m, latest_100k) if v is not None), default=None)
        rows.append(
            (
                f"feed: latest first page p50 <= {LATEST_FIRST_MS:g} ms, 1M / 100k <= {FLAT_RATIO:g}",
                setup,
                (f"{worst:.1f} ms" if worst is not None else "-")
                + (f", {latest_1m / latest_100k:.2f}x" if flat else ""),
                verdict(
                    None
                    if worst is None
                    else worst <= LATEST_FIRST_MS and (not flat or latest_1m / latest_100k <= FLAT_RATIO)
                ),
            )
        )
        rows.append(
            (
                f"feed: ranked later page p50 <= {RANKED_LATER_MS:g} ms",
                setup,
                f"{later:.1f} ms" if later is not None else "-",
                verdict(None if later is None else later <= RANKED_LATER_MS),
            )
        )
        qualities = [r["quality_mean"] for r in (small, large) if r and r.get("quality_mean")]
        worst_quality = min((q["ranked"] / q["latest"] for q in qualities if q.get("latest")), default=None)
        rows.append(
            (
                f"feed: quality, ranked >= {QUALITY_RATIO:g}x latest",
                setup,
                f"{worst_quality:.2f}x" if worst_quality is not None else "-",
                verdict(None if worst_quality is None else worst_quality >= QUALITY_RATIO),
            )
        )
    return rows


def storm_rows() -> list[tuple[str, str, str, str]]:
    rows = []
    for path in sorted(OUT.glob("storm-*.json")):
        run = json.loads(path.read_text())
        storm = run["storm"]
        setup = f"{run['kind']}, {run['clients']:,} clients (load {run.get('load', '?').split('average:')[-1].strip()})"
        clean = storm["lost"] == 0 and storm["duplicated"] == 0
        rows.append(
            (
                f"storm: all reconnected and resumed <= {STORM_SECONDS:g} s, 0 lost, 0 duplicated",
                setup,
                f"{storm['seconds']:.1f} s, {storm['lost']} lost, {storm['duplicated']} duplicated",
                verdict(storm["seconds"] <= STORM_SECONDS and clean),
            )
        )
        rows.append(
            (
                f"storm: connect rate empty / beside {run.get('open_beside', 9000):,} open <= {CONNECT_RATIO:g}",
                setup,
                f"{run['rate_ratio']:.2f}x ({run['rate_empty']:.0f} / {run['rate_full']:.0f} per s)",
                verdict(run["rate_ratio"] <= CONNECT_RATIO),
            )
        )
    return rows


def main() -> int:
    global RESULTS, OUT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS, help="the RESULTS.md to read chat figures from")
    parser.add_argument("--out", type=Path, default=OUT, help="the directory of the benchmarks' JSON figures")
    args = parser.parse_args()
    RESULTS, OUT = args.results, args.out
    rows = chat_rows() + feed_rows() + storm_rows()
    missing = []
    if not any(r[0].startswith("chat:") for r in rows):
        missing.append(("chat: every issue-21 chat target", "-", "-", verdict(None)))
    if not any(r[0].startswith("feed:") for r in rows):
        missing.append(("feed: every issue-21 feed target", "-", "-", verdict(None)))
    if not any(r[0].startswith("storm:") for r in rows):
        missing.append(("storm: every issue-21 connect-storm target", "-", "-", verdict(None)))
    print("| target (issue 21) | setup | measured | verdict |")
    print("|---|---|---|---|")
    for row in rows + missing:
        print("| " + " | ".join(row) + " |")
    met = sum(r[3] == "met" for r in rows)
    print(f"\n{met} of {len(rows) + len(missing)} met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
