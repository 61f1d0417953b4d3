"""Presence lives in realtime.presence; chat's contact list (chat/api.py) and cards read it by this name."""

from realtime.presence import presence_of

__all__ = ["presence_of"]
