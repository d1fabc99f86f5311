from django.urls import path, re_path

from kb.urls_moderation import urlpatterns as moderation_urlpatterns
from kb.views import data, html, html_edit, html_imports, html_votes
from kb.views.search import search_page

app_name = "kb"

urlpatterns = [
    path("", html.home, name="home"),
    path("questions/ask/", html_edit.ask, name="ask"),
    # Before question_detail, whose optional slug would otherwise swallow "revisions", "edit"...
    path("questions/<int:pk>/revisions/", html.question_history, name="question_history"),
    path("questions/<int:pk>/edit/", html_edit.question_edit, name="question_edit"),
    path("questions/<int:pk>/diff/", html_edit.question_diff, name="question_diff"),
    path("questions/<int:pk>/rollback/", html_edit.question_rollback, name="question_rollback"),
    path("questions/<int:pk>/answers/", html_edit.answer_add, name="answer_add"),
    path("questions/<int:pk>/comments/", html_edit.question_comment_add, name="question_comment"),
    path("questions/<int:pk>/vote/", html_votes.question_vote, name="question_vote"),
    re_path(
        r"^questions/(?P<pk>\d+)/(?:(?P<slug>[^/]+)/)?$",
        html.question_detail,
        name="question_detail",
    ),
    path("answers/<int:pk>/revisions/", html.answer_history, name="answer_history"),
    path("answers/<int:pk>/edit/", html_edit.answer_edit, name="answer_edit"),
    path("answers/<int:pk>/diff/", html_edit.answer_diff, name="answer_diff"),
    path("answers/<int:pk>/rollback/", html_edit.answer_rollback, name="answer_rollback"),
    path("answers/<int:pk>/comments/", html_edit.answer_comment_add, name="answer_comment"),
    path("answers/<int:pk>/vote/", html_votes.answer_vote, name="answer_vote"),
    path("answers/<int:pk>/accept/", html_votes.answer_accept_view, name="answer_accept"),
    path("comments/<int:comment_id>/edit/", html_edit.comment_edit_view, name="comment_edit"),
    path("comments/<int:comment_id>/delete/", html_edit.comment_delete_view, name="comment_delete"),
    path("preview/", html_edit.markdown_preview, name="markdown_preview"),
    path("tags/", html.tag_list, name="tag_list"),
    path("tags/autocomplete/", html_edit.tag_autocomplete, name="tag_autocomplete"),
    path("tags/<str:name>/", html.tag_detail, name="tag_detail"),
    path("users/", html.user_list, name="user_list"),
    path("users/<str:username>/", html.user_detail, name="user_detail"),
    path("help/<slug:topic>/", html.help_page, name="help"),
    path("data/", data.data_page, name="data"),
    path("data/<str:name>", data.data_file, name="data_file"),
    path("search/", search_page, name="search"),
    path("import/", html_imports.import_page, name="import"),
    path("imports/<int:pk>/", html_imports.import_detail, name="import_detail"),
    path("imports/<int:pk>/undo/", html_imports.import_undo_view, name="import_undo"),
    path("answers/<int:pk>/verify/", html_imports.answer_verify_view, name="answer_verify"),
]
urlpatterns += moderation_urlpatterns
