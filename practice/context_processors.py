from django.utils import timezone

from practice.selectors import header_due_count


def practice_due(request) -> dict:
    """`practice_due`: the header's "due today" count, computed only if a template shows it."""
    user = getattr(request, "user", None)
    if user is None:
        return {}
    return {"practice_due": lambda: header_due_count(user=user, now=timezone.now())}
