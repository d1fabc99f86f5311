from functools import cached_property

from notifications.selectors import UNREAD_SHOWN_MAX, unread_count


class Inbox:
    """The header's unread count, read only if a template shows it (one indexed query)."""

    def __init__(self, user):
        self.user = user

    @cached_property
    def unread(self) -> int:
        return unread_count(viewer=self.user)

    @property
    def unread_label(self) -> str:
        return f"{UNREAD_SHOWN_MAX}+" if self.unread > UNREAD_SHOWN_MAX else str(self.unread)


def inbox(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"inbox": Inbox(user)}
