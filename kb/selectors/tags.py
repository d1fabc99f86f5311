from django.db.models import Prefetch, QuerySet

from kb.models import Tag, TagAlias


def tag_list(*, order: str = "popular") -> QuerySet[Tag]:
    """Tags with their aliases; `popular` (by question count) or `name`."""
    ordering = ["-question_count", "name"] if order == "popular" else ["name"]
    return Tag.objects.prefetch_related(
        Prefetch("aliases", queryset=TagAlias.objects.order_by("name"))
    ).order_by(*ordering)


def tag_get(*, name: str) -> Tag:
    """A tag by name or alias, case-insensitively; raises Tag.DoesNotExist."""
    tag = tag_list().filter(name__iexact=name).first()
    if tag is None:
        alias = TagAlias.objects.select_related("tag").filter(name__iexact=name).first()
        if alias is None:
            raise Tag.DoesNotExist(name)
        tag = tag_list().get(pk=alias.tag_id)
    return tag
