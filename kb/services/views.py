"""Question view counts: one view per visitor, question and hour, counted in the cache and written
to the database in batches, so reading a page costs no write.

The cache holds, per question, the views not yet written (`views:count:<id>`) and a flag that
it has some (`views:dirty:<id>`); the first view after a flush also appends the question to a
journal (`views:journal:<n>`, numbered by an atomic counter), which is how a flush finds the
questions to write without scanning keys. Every web process and the `flush_view_counts` command
share the cache, so any of them may flush. A flush moves a question's count with one UPDATE and
then takes exactly that many views off the cached count: views recorded meanwhile stay for the
next flush.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from kb.rules import rule

JOURNAL = "views:journal"
FLUSHED = "views:flushed"
FLUSH_LOCK = "views:flushing"
FLUSH_LOCK_SECONDS = 60
JOURNAL_ENTRY_SECONDS = 7 * 24 * 3600  # a journal entry outlives any reasonable flush interval


def visitor_key(request) -> str:
    """Who is viewing, without a cookie: the member, or a salted hash of address and browser."""
    if request.user.is_authenticated:
        return f"u{request.user.pk}"
    seen = f"{request.META.get('REMOTE_ADDR', '')}|{request.META.get('HTTP_USER_AGENT', '')}"
    return hashlib.sha256((settings.SECRET_KEY + seen).encode()).hexdigest()[:24]


def question_view_record(*, question_id: int, visitor: str) -> bool:
    """Count a view unless this visitor viewed this question within the hour; True if counted.
    Every `VIEW_FLUSH_EVERY`-th journal entry flushes the journal."""
    if not cache.add(f"views:seen:{question_id}:{visitor}", 1, rule("VIEW_WINDOW_SECONDS")):
        return False
    count_key = f"views:count:{question_id}"
    cache.add(count_key, 0, None)
    cache.incr(count_key)
    if cache.add(f"views:dirty:{question_id}", 1, None):
        cache.add(JOURNAL, 0, None)
        entry = cache.incr(JOURNAL)
        cache.set(f"{JOURNAL}:{entry}", question_id, JOURNAL_ENTRY_SECONDS)
        if entry % rule("VIEW_FLUSH_EVERY") == 0:
            question_views_flush()
    return True


def question_views_flush() -> int:
    """Write the buffered views to the questions; returns how many views were written. One flush
    runs at a time (a lock in the cache); a second one returns 0 at once."""
    if not cache.add(FLUSH_LOCK, 1, FLUSH_LOCK_SECONDS):
        return 0
    try:
        return _flush()
    finally:
        cache.delete(FLUSH_LOCK)


def _flush() -> int:
    last = cache.get(JOURNAL) or 0
    done = cache.get(FLUSHED) or 0
    numbers = range(done + 1, last + 1)
    entries = cache.get_many([f"{JOURNAL}:{n}" for n in numbers])
    for n in numbers:
        # An entry is numbered before it is written: stop at one not written yet, unless it was
        # already missing at an earlier flush (its writer died), and go on from there next time.
        if f"{JOURNAL}:{n}" not in entries and cache.add(f"{JOURNAL}:missing:{n}", 1, 3600):
            last = n - 1
            break
    question_ids = sorted({pk for key, pk in entries.items() if int(key.rsplit(":", 1)[1]) <= last})
    cache.delete_many([f"views:dirty:{pk}" for pk in question_ids])
    counts = cache.get_many([f"views:count:{pk}" for pk in question_ids])
    moved = {int(key.rsplit(":", 1)[1]): n for key, n in counts.items() if n}
    if moved:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE kb_question SET view_count = kb_question.view_count + batch.n "
                "FROM unnest(%s::bigint[], %s::int[]) AS batch(id, n) "
                "WHERE kb_question.id = batch.id",
                [list(moved), list(moved.values())],
            )
        for pk, n in moved.items():
            cache.decr(f"views:count:{pk}", n)
    cache.delete_many([f"{JOURNAL}:{n}" for n in range(done + 1, last + 1)])
    cache.set(FLUSHED, last, None)
    return sum(moved.values())
