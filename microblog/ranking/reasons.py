"""Why an item is in the feed: short sentences a person understands, strongest first.

Presentation only: it reads a scored candidate's plain facts and never changes the score.
"""

from .candidates import Candidate

MAX_REASONS = 3
# Summed shared likes of an item's likers before it is worth saying.
KINDRED_REASON = 2


def _names(names: list[str]) -> str:
    shown = ", ".join(f"@{name}" for name in names[:2])
    more = len(names) - 2
    return f"{shown} and {more} other{'s' if more > 1 else ''}" if more > 0 else shown


def reasons_for(item: Candidate, *, viewer_username: str) -> list[str]:
    """Reasons in the order the factors weigh: who brought it, then closeness, then proof, then trends."""
    reasons = []
    if item.own:
        reasons.append("your post")
    elif item.author_followed:
        reasons.append(f"you follow @{item.author_username}")
    others = [name for name in item.reposted_by if name != viewer_username]
    if others:
        reasons.append(f"reposted by {_names(others)}")
    if viewer_username in item.reposted_by:
        reasons.append("you reposted this")
    if item.author_contact:
        reasons.append(f"you chat with @{item.author_username}")
    if item.viewer_replies or item.viewer_reposts or item.viewer_likes >= 2:
        reasons.append(f"you often interact with @{item.author_username}")
    if item.followed_likers:
        people = "person" if item.followed_likers == 1 else "people"
        reasons.append(f"liked by {item.followed_likers} {people} you follow")
    if item.kindred_likes >= KINDRED_REASON:
        reasons.append("liked by people who like what you like")
    if item.trending_tag:
        reasons.append(f"trending #{item.trending_tag}")
    return reasons[:MAX_REASONS]
