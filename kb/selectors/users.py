"""The member directory: public members by reputation, optionally matching a name."""

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

USER_QUERY_MAX_LENGTH = 60


def user_directory(*, query: str = "") -> QuerySet:
    """Active members other than the system account, highest reputation first; `query` matches
    the user name or the display name, in any letter case."""
    members = get_user_model().objects.filter(is_active=True, is_system=False)
    query = query.strip()[:USER_QUERY_MAX_LENGTH].replace("\x00", "")
    if query:
        members = members.filter(Q(username__icontains=query) | Q(display_name__icontains=query))
    return members.only("username", "display_name", "reputation", "date_joined").order_by(
        "-reputation", "id"
    )
