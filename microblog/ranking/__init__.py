"""The home feed: one selector, `feed_page`, over interchangeable rankers.

`order=latest` always uses the chronological ranker; `order=ranked` uses the
ranker named by `settings.FEED_RANKER`. The parts of the weighted ranker live apart:
`candidates` (queries), `scoring` (pure functions), `reasons` (presentation),
`snapshot` (stable paging).
"""

from .rankers import FeedItem, FeedPage, feed_page
from .snapshot import InvalidCursor

__all__ = ["FeedItem", "FeedPage", "InvalidCursor", "feed_page"]
