"""Search: weighted tsvectors of questions and answers in tables of their own (GIN), a trigram index
on question titles for the fuzzy fallback, and the lexicon of English words typo correction uses.

Posts that exist before this migration have no search row yet: `manage.py reindex_search` (which
`make db` runs) segments them. The vectors are built in Python (kb/search.py), not by a trigger.
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("kb", "0003_comment_revisions")]

    operations = [
        migrations.CreateModel(
            name="QuestionSearch",
            fields=[
                (
                    "question",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search",
                        serialize=False,
                        to="kb.question",
                    ),
                ),
                ("vector", django.contrib.postgres.search.SearchVectorField()),
                ("search_version", models.PositiveIntegerField()),
            ],
            options={
                "indexes": [
                    django.contrib.postgres.indexes.GinIndex(
                        fields=["vector"], name="question_search_vector"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="AnswerSearch",
            fields=[
                (
                    "answer",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search",
                        serialize=False,
                        to="kb.answer",
                    ),
                ),
                ("vector", django.contrib.postgres.search.SearchVectorField()),
                ("search_version", models.PositiveIntegerField()),
            ],
            options={
                "indexes": [
                    django.contrib.postgres.indexes.GinIndex(
                        fields=["vector"], name="answer_search_vector"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="SearchWord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("word", models.CharField(max_length=40, unique=True)),
            ],
            options={
                "indexes": [
                    django.contrib.postgres.indexes.GinIndex(
                        fields=["word"], name="searchword_trgm", opclasses=["gin_trgm_ops"]
                    )
                ],
            },
        ),
        migrations.AddIndex(
            model_name="question",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["title"], name="question_title_trgm", opclasses=["gin_trgm_ops"]
            ),
        ),
    ]
