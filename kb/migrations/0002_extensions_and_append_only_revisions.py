from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations

# Revisions are append-only. The database itself refuses to delete a revision or to change its
# content; only the review columns (status, reviewer, reviewed_at, review_note) may change.
APPEND_ONLY = """
CREATE FUNCTION kb_revision_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'revisions are append-only: delete refused (revision %)', OLD.id;
    END IF;
    IF (NEW.question_id, NEW.answer_id, NEW.number, NEW.title, NEW.body, NEW.tags, NEW.author_id,
        NEW.summary, NEW.base_revision_id, NEW.rollback_of_id, NEW.created_at)
       IS DISTINCT FROM
       (OLD.question_id, OLD.answer_id, OLD.number, OLD.title, OLD.body, OLD.tags, OLD.author_id,
        OLD.summary, OLD.base_revision_id, OLD.rollback_of_id, OLD.created_at) THEN
        RAISE EXCEPTION 'revisions are append-only: content of revision % may not change', OLD.id;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER kb_revision_append_only
BEFORE UPDATE OR DELETE ON kb_revision
FOR EACH ROW EXECUTE FUNCTION kb_revision_append_only();
"""

DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS kb_revision_append_only ON kb_revision;
DROP FUNCTION IF EXISTS kb_revision_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("kb", "0001_initial")]

    operations = [
        TrigramExtension(),
        UnaccentExtension(),
        migrations.RunSQL(APPEND_ONLY, DROP_APPEND_ONLY),
    ]
