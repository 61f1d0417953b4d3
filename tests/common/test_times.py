"""The one way times are said (common/times.py, and `{% when %}` on every page): relative while recent,
"Yesterday 14:02", then a date; Chinese when the browser asks for it. tests/e2e/test_chat_ux.py checks
that static/js/times.js says the same of the same instants."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.test import RequestFactory, override_settings

from common.times import day_label, language_of, relative_time

NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)

# (how long before NOW, English, Chinese)
CASES = [
    (timedelta(seconds=0), "now", "刚刚"),
    (timedelta(seconds=59), "now", "刚刚"),
    (timedelta(seconds=-30), "now", "刚刚"),  # a clock slightly behind the writer's
    (timedelta(minutes=1), "1 min", "1分钟"),
    (timedelta(minutes=59, seconds=59), "59 min", "59分钟"),
    (timedelta(hours=1), "1 h", "1小时"),
    (timedelta(hours=15, minutes=29), "15 h", "15小时"),
    (timedelta(hours=15, minutes=31), "Yesterday 23:59", "昨天 23:59"),
    (timedelta(hours=39, minutes=30), "Yesterday 00:00", "昨天 00:00"),
    (timedelta(days=2), "Mar 8", "3月8日"),
    (timedelta(days=80), "Dec 20, 2025", "2025年12月20日"),
]


@pytest.mark.parametrize(("ago", "english", "chinese"), CASES)
def test_relative_time_in_english_and_chinese(ago, english, chinese):
    assert relative_time(NOW - ago, NOW, "en", UTC) == english
    assert relative_time(NOW - ago, NOW, "zh", UTC) == chinese


def test_days_follow_the_readers_calendar_not_utcs():
    shanghai = ZoneInfo("Asia/Shanghai")
    # 15:30 UTC is 23:30 in Shanghai; 16:30 UTC is already the next day there.
    assert relative_time(NOW, NOW + timedelta(hours=1), "en", UTC) == "1 h"
    assert relative_time(NOW, NOW + timedelta(hours=1), "en", shanghai) == "Yesterday 23:30"


def test_day_separators():
    assert [day_label(NOW - timedelta(days=n), NOW, "en", UTC) for n in (0, 1, 2)] == ["Today", "Yesterday", "Mar 8"]
    assert [day_label(NOW - timedelta(days=n), NOW, "zh", UTC) for n in (0, 1, 400)] == ["今天", "昨天", "2025年2月3日"]


@pytest.mark.parametrize(
    ("header", "language"),
    [("zh-CN,zh;q=0.9,en;q=0.8", "zh"), ("zh-TW", "zh"), ("en-US,zh;q=0.5", "en"), ("", "en"), ("fr", "en")],
)
def test_the_first_language_the_browser_asks_for(header, language):
    assert language_of(header) == language


@override_settings(TIME_ZONE="UTC")
def test_the_template_tag_renders_a_time_element_in_the_readers_language(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    template = Template("{% when moment %}|{% day_of moment %}")
    moment = NOW - timedelta(minutes=3)
    chinese = RequestFactory().get("/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert template.render(Context({"moment": moment, "request": chinese})) == (
        f'<time datetime="{moment.isoformat()}" data-when="relative">3分钟</time>|今天'
    )
    english = RequestFactory().get("/")
    assert template.render(Context({"moment": moment, "request": english})).startswith(
        f'<time datetime="{moment.isoformat()}" data-when="relative">3 min</time>'
    )
