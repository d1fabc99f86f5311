"""Who a user is: facts about a member that the rulebook (kb.permissions), the privileges and the
visibility querysets (kb.models) all read. Nothing here decides whether an action is allowed;
that is the rulebook's job, and models must not import the rulebook."""

MODERATOR_GROUP = "moderators"


def is_moderator(user) -> bool:
    """Staff and members of the moderators group."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    # Cached on the user object so a page asks the database once.
    if not hasattr(user, "_is_moderator"):
        user._is_moderator = user.groups.filter(name=MODERATOR_GROUP).exists()
    return user._is_moderator
