"""`make bench`'s last table (bench/summary.py): each chat setup's newest figures, and no older run's beside them."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HEADER = """| scenario | ours | peer | target | verdict |
|---|---|---|---|---|"""


def chat_section(heading: str, finished: str, ratio: str, verdict: str, target: str = "both ≤ 1.5× peer") -> str:
    return f"""## {heading}

Command: `make bench-chat` (`bench/chat_bench.py`), finished {finished} UTC.

{HEADER}
| 1:1 latency p50 / p99 at 2 msgs/s offered (1 pairs) | 5 / 9 ms | 3 / 5 ms | {target} | {verdict} ({ratio}) |
"""


def summary(tmp_path: Path, results: str) -> str:
    path = tmp_path / "RESULTS.md"
    path.write_text("# Benchmark results\n\n" + results)
    (tmp_path / "out").mkdir()
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "summary.py"), "--results", str(path), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_an_old_quick_run_does_not_stand_beside_a_newer_full_one(tmp_path):
    out = summary(
        tmp_path,
        chat_section("2026-11-27 (quick)", "10:00", "117.5× / 3.0×", "MISSED", target="p99 ≤ 2× peer")
        + chat_section("2026-12-01", "00:31", "1.54× / 2.42×", "MISSED")
        + chat_section("2026-12-01 (quick), PostgreSQL + Redis", "00:51", "2.42× / 2.75×", "MISSED"),
    )
    chat = [line for line in out.splitlines() if line.startswith("| chat:")]
    assert len(chat) == 2, out
    assert "117.5×" not in out and "p99 ≤ 2× peer" not in out
    assert "| SQLite + in-memory (2026-12-01 00:31 UTC) | 1.54× / 2.42× | MISSED |" in out
    assert "| PostgreSQL + Redis (quick) (2026-12-01 00:51 UTC) | 2.42× / 2.75× | MISSED |" in out


def test_of_two_runs_on_one_day_the_later_stands(tmp_path):
    out = summary(
        tmp_path,
        chat_section("2026-12-02", "01:24", "1.45× / 6.94×", "MISSED")
        + chat_section("2026-12-02 (quick)", "02:40", "1.40× / 1.30×", "met"),
    )
    assert "| SQLite + in-memory (quick) (2026-12-02 02:40 UTC) | 1.40× / 1.30× | met |" in out
    assert "6.94×" not in out
    assert "1 of " in out
