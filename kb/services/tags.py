from collections.abc import Iterable

from django.contrib.postgres.search import TrigramSimilarity
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from kb import permissions
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


def tags_resolve(*, names: Iterable[str], create_missing: bool = True, creator=None) -> list[Tag]:
    """Tags for the given names or aliases, in order; new names become new tags. With `creator`,
    new names need the create-tag privilege (kb.permissions.tag_create_refusal); without it the
    error suggests the nearest existing tags and aliases.

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
    unknown = [n for n in cleaned if n not in by_name]
    if unknown and creator is not None:
        refusal = permissions.tag_create_refusal(creator)
        if refusal is not None:
            raise ValidationError({"tags": _unknown_tags_message(unknown, refusal)})
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


TAG_SUGGESTIONS = 3


def tag_suggestions(name: str) -> list[str]:
    """The existing tag names and aliases nearest to `name` (pg_trgm similarity), best first."""
    similarity = TrigramSimilarity("name", name)
    tags = Tag.objects.annotate(similarity=similarity).filter(similarity__gt=0.1)
    aliases = TagAlias.objects.annotate(similarity=similarity).filter(similarity__gt=0.1)
    nearest = tags.values("name", "similarity").union(aliases.values("name", "similarity"))
    rows = nearest.order_by("-similarity", "name")[:TAG_SUGGESTIONS]
    return [row["name"] for row in rows]


def _unknown_tags_message(unknown: list[str], refusal) -> str:
    parts = [str(refusal.message)]
    for name in unknown:
        nearest = tag_suggestions(name)
        if nearest:
            parts.append(
                _("“%(name)s” is not a tag yet; did you mean: %(nearest)s?")
                % {"name": name, "nearest": ", ".join(nearest)}
            )
        else:
            parts.append(_("“%(name)s” is not a tag yet.") % {"name": name})
    return " ".join(parts)


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
