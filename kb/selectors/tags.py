from dataclasses import dataclass

from django.db.models import Case, Prefetch, QuerySet, Value, When

from kb import search
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


def tag_suggestions(*, text: str, limit: int = 10) -> list[dict]:
    """Tags for an autocomplete box: names or aliases containing `text`, those that start with it
    first, then by popularity; the most popular tags for empty text (two queries at most)."""
    text = text.strip().lower()[:40]
    starts = Case(When(name__istartswith=text, then=Value(0)), default=Value(1))
    tags = Tag.objects.filter(name__icontains=text).order_by(starts, "-question_count", "name")
    found = {t.pk: {"name": t.name, "count": t.question_count, "alias": ""} for t in tags[:limit]}
    if text and len(found) < limit:
        alias_starts = Case(When(name__istartswith=text, then=Value(0)), default=Value(1))
        aliases = (
            TagAlias.objects.filter(name__icontains=text)
            .exclude(tag_id__in=found)
            .select_related("tag")
            .order_by(alias_starts, "-tag__question_count", "name")
        )
        for alias in aliases[: limit - len(found)]:
            found.setdefault(
                alias.tag_id,
                {"name": alias.tag.name, "count": alias.tag.question_count, "alias": alias.name},
            )
    return list(found.values())


@dataclass
class TagConcept:
    """A tag's names in both languages, from the concept lexicon (kb/search_concepts.toml) and
    the tag's aliases: what search treats as the same thing."""

    chinese: list[str]
    english: list[str]
    narrower: list[str]  # kinds of it, which a search for it also finds


def tag_concept(*, tag: Tag) -> TagConcept:
    """The concept block of a tag's page. Reads the tag's aliases as tag_get prefetched them."""
    aliases = [alias.name for alias in tag.aliases.all()]
    concept = search.concept_of_tag(tag.name)
    if concept is None:  # the tag is a concept of its own: its name and aliases
        names = [tag.name, *aliases]
        return TagConcept(
            chinese=[name for name in names if search.is_chinese(name)],
            english=[name for name in names if not search.is_chinese(name)],
            narrower=[],
        )
    chinese, english = concept.all_names(aliases)
    if tag.name not in english and not search.is_chinese(tag.name):
        english.insert(0, tag.name)
    return TagConcept(chinese=chinese, english=english, narrower=list(concept.narrower))
