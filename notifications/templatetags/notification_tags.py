from django import template

from notifications import selectors

register = template.Library()


@register.inclusion_tag("notifications/includes/_question_controls.html", takes_context=True)
def question_follow_controls(context, question) -> dict:
    """Follow and bookmark buttons for a signed-in viewer: one query (two indexed EXISTS), the
    same whatever the number of followers; nothing for anonymous readers."""
    viewer = context["request"].user
    state = selectors.question_state(viewer=viewer, question=question)
    return {"question": question, "state": state, "user": viewer,
            "csrf_token": context.get("csrf_token")}  # fmt: skip


@register.inclusion_tag("notifications/includes/_bookmarks.html", takes_context=True)
def bookmark_section(context, member) -> dict:
    """The member's bookmarks (收藏) on their own profile page; private to them."""
    viewer = context["request"].user
    if not viewer.is_authenticated or viewer.pk != member.pk:
        return {"show": False}
    return {
        "show": True,
        "bookmarks": list(selectors.bookmark_list(viewer=viewer, owner=member)[:50]),
    }


@register.inclusion_tag("notifications/includes/_tag_controls.html", takes_context=True)
def tag_watch_controls(context, tag) -> dict:
    viewer = context["request"].user
    if not viewer.is_authenticated:
        return {"show": False}
    preferences = selectors.tag_preferences_get(viewer=viewer)
    state = preferences.state_of([tag.name])
    return {"show": True, "tag": tag, "state": state, "csrf_token": context.get("csrf_token"),
            "next": context["request"].get_full_path()}  # fmt: skip


@register.simple_tag
def notification_link(notification) -> str:
    return selectors.notification_url(notification)


@register.inclusion_tag("notifications/includes/_moderator_message_link.html", takes_context=True)
def moderator_message_link(context, member) -> dict:
    from kb.permissions import moderator_message_refusal

    viewer = context["request"].user
    show = viewer.is_authenticated and moderator_message_refusal(viewer, member) is None
    return {"show": show, "member": member}
