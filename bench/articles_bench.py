"""Rendering a 50,000-character article: articles.render.render (markdown-it-py, then nh3's allow-list)
against markdown-it-py alone (the same CommonMark + tables + strikethrough, raw HTML off), in the same run.

The article is rendered (and sanitised) on every request, never read back from storage; this says
what that costs. Runs are interleaved (alone, ours, alone, ours, ...) so load drifts hit both alike.

    .venv/bin/python bench/articles_bench.py [--runs 60]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from markdown_it import MarkdownIt  # noqa: E402

from articles import render  # noqa: E402

SECTION = """## Section {n}: a day on the water

The ferry left at **seven**, and by the time we reached the second island the fog had *lifted*. Prices:
the ticket was ¥35, the [timetable](https://example.com/ferry/{n}) is online, and ~~the old pier~~ is closed.
Some words in 中文 too: 今天天气很好，我们去了海边。

- bring water
- bring a hat, and [a map](https://maps.example/{n})
- `sunscreen`, 50+

> The sea was calm; the gulls were not.

![our boat](/media/k{n}x/display) and ![someone else's](https://img.example/{n}.png)

| time | place | cost |
|---|:-:|--:|
| 07:00 | pier | 35 |
| 09:30 | island | 0 |

```python
def tide(hour: int) -> float:
    return 1.2 * hour  # <script>not code</script>
```

<b>raw html stays text</b> and a [bad link](javascript:alert({n})).

"""


def article(chars: int = 50_000) -> str:
    parts, n = [], 0
    while sum(map(len, parts)) < chars:
        parts.append(SECTION.format(n=n))
        n += 1
    return "".join(parts)[:chars]


def timed(function, body: str) -> float:
    start = time.perf_counter()
    function(body)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()
    body = article()
    alone = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    for _ in range(5):  # warm up both
        alone.render(body)
        render.render(body)
    samples = {"markdown-it-py alone": [], "render (markdown-it + image rule + nh3)": [], "nh3 alone": []}
    rendered = render.markdown_html(body)
    for _ in range(args.runs):
        samples["markdown-it-py alone"].append(timed(alone.render, body))
        samples["render (markdown-it + image rule + nh3)"].append(timed(render.render, body))
        samples["nh3 alone"].append(timed(render.sanitise, rendered))
    base = statistics.median(samples["markdown-it-py alone"])
    print(f"article: {len(body):,} characters, {len(render.render(body)):,} bytes of HTML; {args.runs} runs each")
    print(f"load: {os.getloadavg()}")
    print("| what | p50 ms | p95 ms | p50 vs markdown-it-py alone |")
    print("|---|--:|--:|--:|")
    for name, values in samples.items():
        values.sort()
        p50, p95 = statistics.median(values), values[int(len(values) * 0.95) - 1]
        print(f"| {name} | {p50:.1f} | {p95:.1f} | {p50 / base:.2f}× |")


if __name__ == "__main__":
    main()
