"""Channel-layer group names. realtime is the only place that spells them."""


def user_group(user_id: int) -> str:
    """Every socket of one user joins this group."""
    return f"user.{user_id}"
