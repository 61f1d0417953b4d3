"""Channel-layer group names. realtime is the only place that spells them."""


def user_group(user_id: int) -> str:
    """Every socket of one user joins this group."""
    return f"user.{user_id}"


def broadcast_group(channel_id: int) -> str:
    """Every open socket of a channel's subscribers joins this group (chat.consumers): a broadcast is
    one group_send, which reaches only the sockets open now, never a list of subscribers."""
    return f"channel.{channel_id}"
