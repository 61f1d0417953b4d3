"""Demo people for `seed_demo`, with known passwords so a visitor can try Tandem at once."""

from .models import User

DEMO_PASSWORD = "tandem-demo-2026"  # noqa: S105 (published on purpose: demo accounts)
DEMO_PEOPLE = [
    ("alice", "Alice Liu", "Coffee, climbing and Django."),
    ("bob", "Bob Martin", "Photographer. Always on the move."),
    ("carol", "Carol 陈", "写代码，也写诗。"),
    ("dave", "Dave Okafor", "Runs a small bakery; posts bread."),
]


def seed_users() -> list[User]:
    people = []
    for username, display_name, bio in DEMO_PEOPLE:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(
                username=username, password=DEMO_PASSWORD, display_name=display_name, bio=bio
            )
        people.append(user)
    return people
