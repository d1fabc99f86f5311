from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from kb.models import Tag, TagAlias
from kb.rules import rule
from kb.services import page_cache

TAG_NAME_MAX_LENGTH = 40


def normalize_tag_names(names: Iterable[str]) -> list[str]:
    """Strip, lower-case and de-duplicate tag names, keeping their order."""
    seen: list[str] = []
    for name in names:
        cleaned = " ".join(str(name).split()).lower().replace(" ", "-")
        if cleaned and cleaned not in seen:
            seen.append(cleaned)
    return seen


def tags_resolve(*, names: Iterable[str], create_missing: bool = True) -> list[Tag]:
    """Tags for the given names or aliases, in order; new names become new tags.

    Raises ValidationError for more than MAX_TAGS tags or a malformed name.
    """
    cleaned = normalize_tag_names(names)
    max_tags = rule("MAX_TAGS")
    if len(cleaned) > max_tags:
        raise ValidationError({"tags": _("At most %(max)d tags.") % {"max": max_tags}})
    for name in cleaned:
        if len(name) > TAG_NAME_MAX_LENGTH:
            raise ValidationError(
                {"tags": _("Tag “%(name)s” is longer than %(max)d characters.")
                 % {"name": name[:50], "max": TAG_NAME_MAX_LENGTH}}
            )  # fmt: skip
    by_name = {
        t.name.lower(): t
        for t in Tag.objects.annotate(lname=Lower("name")).filter(lname__in=cleaned)
    }
    missing = [n for n in cleaned if n not in by_name]
    if missing:
        for alias in (
            TagAlias.objects.select_related("tag")
            .annotate(lname=Lower("name"))
            .filter(lname__in=missing)
        ):
            by_name[alias.name.lower()] = alias.tag
    tags: list[Tag] = []
    for name in cleaned:
        tag = by_name.get(name)
        if tag is None:
            if not create_missing:
                raise ValidationError({"tags": _("Unknown tag “%(name)s”.") % {"name": name}})
            tag, _created = Tag.objects.get_or_create(name=name)
            by_name[name] = tag
        if tag not in tags:
            tags.append(tag)
    return tags


def tag_upsert(*, name: str, description: str = "", aliases: Iterable[str] = ()) -> Tag:
    """Create or update a tag with its description and aliases (starter content, admin)."""
    (name,) = normalize_tag_names([name])
    tag = Tag.objects.filter(Q(name__iexact=name)).first() or Tag(name=name)
    tag.description = description
    tag.save()
    for alias in aliases:
        alias = alias.strip()
        if (
            alias
            and alias.lower() != name
            and not TagAlias.objects.filter(name__iexact=alias).exists()
        ):
            TagAlias.objects.create(tag=tag, name=alias)
    page_cache.lists_changed()
    return tag
