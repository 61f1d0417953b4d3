"""One way to say when something happened, for people: "now", "3 min", "2 h", "Yesterday 14:02", then a
date; in Chinese when the reader's browser asks for it. static/js/times.js is the same rules in
JavaScript (tests/front/test_times.py renders the same instants both ways), so a page rendered here
and refreshed there never changes its words, only its numbers as time passes.

Days are calendar days in the timezone given (the server's TIME_ZONE here; the browser's own there).
"""

from datetime import datetime, timedelta, tzinfo

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WORDS = {
    "en": {"now": "now", "min": "{} min", "h": "{} h", "today": "Today", "yesterday": "Yesterday"},
    "zh": {"now": "刚刚", "min": "{}分钟", "h": "{}小时", "today": "今天", "yesterday": "昨天"},
}


def language_of(accept_language: str) -> str:
    """The language code, zh or en: Chinese when the first language (Accept-Language, navigator.language) is Chinese."""
    first = (accept_language or "").split(",")[0].strip().lower()
    return "zh" if first.startswith("zh") else "en"


def date_label(moment: datetime, now: datetime, lang: str) -> str:
    """A date: "Mar 5" / "3月5日" this year, with the year otherwise."""
    if lang == "zh":
        day = f"{moment.month}月{moment.day}日"
        return day if moment.year == now.year else f"{moment.year}年{day}"
    day = f"{MONTHS[moment.month - 1]} {moment.day}"
    return day if moment.year == now.year else f"{day}, {moment.year}"


def relative_time(moment: datetime, now: datetime, lang: str = "en", tz: tzinfo | None = None) -> str:
    """How long ago, coarser with age: minutes, hours today, yesterday with the clock time, then a date."""
    words = WORDS[lang]
    moment, now = moment.astimezone(tz), now.astimezone(tz)
    seconds = (now - moment).total_seconds()
    if seconds < 60:  # also a moment slightly ahead of this clock
        return words["now"]
    if seconds < 3600:
        return words["min"].format(int(seconds // 60))
    if moment.date() == now.date():
        return words["h"].format(int(seconds // 3600))
    if moment.date() == now.date() - timedelta(days=1):
        return f"{words['yesterday']} {moment:%H:%M}"
    return date_label(moment, now, lang)


def day_label(moment: datetime, now: datetime, lang: str = "en", tz: tzinfo | None = None) -> str:
    """A chat's day separator: "Today", "Yesterday", or the date."""
    words = WORDS[lang]
    moment, now = moment.astimezone(tz), now.astimezone(tz)
    if moment.date() == now.date():
        return words["today"]
    if moment.date() == now.date() - timedelta(days=1):
        return words["yesterday"]
    return date_label(moment, now, lang)
