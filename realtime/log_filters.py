"""Logging filters for noise an operator cannot act on more than once."""

import logging
import time


class OncePerInterval(logging.Filter):
    """Lets one record of a kind (logger and message) through per interval, and says how many were held back.

    channels-redis's pub/sub layer logs "Unexpected exception in receive task" with a traceback
    every second while Redis is unreachable; one a minute says the same (the layer reconnects
    by itself, and the worker's own layer watch logs the outage and the recovery).
    """

    def __init__(self, seconds: float = 60.0):
        super().__init__()
        self.seconds = seconds
        self.last: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        now = time.monotonic()
        shown_at, held = self.last.get(key, (None, 0))
        if shown_at is not None and now - shown_at < self.seconds:
            self.last[key] = (shown_at, held + 1)
            return False
        self.last[key] = (now, 0)
        if held:
            record.msg = f"{record.msg} ({held} more like this in the last {now - shown_at:.0f} s)"
        return True
