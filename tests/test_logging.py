"""The pub/sub layer's once-a-second traceback while Redis is down reaches the log once a minute."""

import logging

from realtime import log_filters


def test_a_repeated_error_is_logged_once_a_minute_with_the_count_held_back(caplog, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(log_filters.time, "monotonic", lambda: clock[0])
    logger = logging.getLogger("channels_redis.pubsub")
    # The project's LOGGING gives this logger the filter; a fresh one keeps the test's clock its own.
    monkeypatch.setattr(logger, "filters", [log_filters.OncePerInterval(seconds=60)])
    with caplog.at_level(logging.ERROR, logger="channels_redis.pubsub"):
        for _ in range(30):  # half a minute of Redis being down
            logger.error("Unexpected exception in receive task")
            clock[0] += 1
        logger.error("Something else went wrong")
        clock[0] += 31
        logger.error("Unexpected exception in receive task")
    assert [record.getMessage() for record in caplog.records] == [
        "Unexpected exception in receive task",
        "Something else went wrong",
        "Unexpected exception in receive task (29 more like this in the last 61 s)",
    ]


def test_the_project_settings_filter_the_pubsub_logger():
    from django.conf import settings

    assert settings.LOGGING["loggers"]["channels_redis.pubsub"]["filters"] == ["once_a_minute"]
    assert any(isinstance(f, log_filters.OncePerInterval) for f in logging.getLogger("channels_redis.pubsub").filters)
