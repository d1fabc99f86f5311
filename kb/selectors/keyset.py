"""Keyset ("older than") paging: a page that starts after a given row of an ordered list, found
through the list's index from that row instead of counting past every row before it, so a deep
page costs what the first one does.

A cursor is the sort key of the last row shown, one integer a field joined by "_": datetimes in
microseconds since the epoch, then the primary key, which every list orders by last, so no two
rows share a cursor and rows that tie on the other fields are neither skipped nor repeated."""

from datetime import UTC, datetime, timedelta

from django.db import models
from django.db.models import Q, QuerySet

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ordering(items: QuerySet) -> list[tuple[str, bool, models.Field]] | None:
    """(field name, descending, field) for each term of the list's order; None when a term is
    not a plain field of integers or datetimes (no keyset for such a list)."""
    terms = []
    for term in items.query.order_by:
        if not isinstance(term, str):
            return None
        descending = term.startswith("-")
        name = term.lstrip("-")
        field = items.model._meta.pk if name == "pk" else items.model._meta.get_field(name)
        if not isinstance(field, models.DateTimeField | models.IntegerField | models.AutoField):
            return None
        terms.append((name, descending, field))
    return terms if terms and terms[-1][0] in ("pk", items.model._meta.pk.name) else None


def _encode(value) -> str:
    if isinstance(value, datetime):
        return str((value - EPOCH) // timedelta(microseconds=1))
    return str(int(value))


def keyset_cursor(items: QuerySet, row) -> str | None:
    """The cursor of `row` in the list `items` (None when the list has no keyset order)."""
    terms = _ordering(items)
    if terms is None:
        return None
    return "_".join(_encode(getattr(row, name)) for name, _descending, _field in terms)


def keyset_after(items: QuerySet, cursor: str) -> QuerySet | None:
    """The rows of `items` that come after the row `cursor` names, in the list's order; None when
    the cursor does not fit the list (a hand-edited address: the caller shows the first page)."""
    terms = _ordering(items)
    parts = cursor.split("_")
    if terms is None or len(parts) != len(terms):
        return None
    try:
        numbers = [int(part) for part in parts]
        values = [
            EPOCH + timedelta(microseconds=number)
            if isinstance(field, models.DateTimeField)
            else number
            for number, (_name, _descending, field) in zip(numbers, terms, strict=True)
        ]
    except (ValueError, OverflowError):
        return None
    after = Q()
    for i, (name, descending, _field) in enumerate(terms):
        equal = {terms[j][0]: values[j] for j in range(i)}
        after |= Q(**equal, **{f"{name}__{'lt' if descending else 'gt'}": values[i]})
    return items.filter(after)
