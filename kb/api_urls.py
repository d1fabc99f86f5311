from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from kb.api_urls_moderation import urlpatterns as moderation_urlpatterns
from kb.models import Answer
from kb.views import api, api_votes
from kb.views.api_changes import ChangeFeedApi
from kb.views.api_dump import DumpApi
from kb.views.api_imports import AnswerVerifyApi, ImportApi, ImportUndoApi
from kb.views.api_search import SearchApi, SimilarQuestionApi

app_name = "api"

urlpatterns = [
    path("questions/", api.QuestionListApi.as_view(), name="question_list"),
    path("questions/<int:pk>/", api.QuestionDetailApi.as_view(), name="question_detail"),
    path("questions/<int:pk>/vote/", api_votes.VoteApi.as_view(), name="question_vote"),
    path(
        "questions/<int:pk>/answers/", api.QuestionAnswerListApi.as_view(), name="question_answers"
    ),
    path("questions/<int:pk>/revisions/", api.RevisionListApi.as_view(), name="question_revisions"),
    path(
        "questions/<int:pk>/revisions/<int:number>/",
        api.RevisionDetailApi.as_view(),
        name="question_revision",
    ),
    path("questions/<int:pk>/diff/", api.RevisionDiffApi.as_view(), name="question_diff"),
    path("questions/<int:pk>/rollback/", api.RollbackApi.as_view(), name="question_rollback"),
    path("questions/<int:pk>/comments/", api.CommentListApi.as_view(), name="question_comments"),
    path("answers/<int:pk>/", api.AnswerDetailApi.as_view(), name="answer_detail"),
    path(
        "answers/<int:pk>/vote/",
        api_votes.VoteApi.as_view(post_model=Answer),
        name="answer_vote",
    ),
    path("answers/<int:pk>/accept/", api_votes.AcceptApi.as_view(), name="answer_accept"),
    path(
        "answers/<int:pk>/comments/",
        api.CommentListApi.as_view(post_model=Answer),
        name="answer_comments",
    ),
    path("comments/<int:comment_id>/", api.CommentDetailApi.as_view(), name="comment_detail"),
    path(
        "answers/<int:pk>/diff/",
        api.RevisionDiffApi.as_view(post_model=Answer),
        name="answer_diff",
    ),
    path(
        "answers/<int:pk>/rollback/",
        api.RollbackApi.as_view(post_model=Answer),
        name="answer_rollback",
    ),
    path(
        "answers/<int:pk>/revisions/",
        api.RevisionListApi.as_view(post_model=Answer),
        name="answer_revisions",
    ),
    path(
        "answers/<int:pk>/revisions/<int:number>/",
        api.RevisionDetailApi.as_view(post_model=Answer),
        name="answer_revision",
    ),
    path("tags/", api.TagListApi.as_view(), name="tag_list"),
    path("tags/<str:name>/", api.TagDetailApi.as_view(), name="tag_detail"),
    path("users/<str:username>/", api.UserDetailApi.as_view(), name="user_detail"),
    path(
        "users/<str:username>/reputation/",
        api_votes.UserReputationApi.as_view(),
        name="user_reputation",
    ),
    path("me/", api.MeApi.as_view(), name="me"),
    path("me/tokens/", api.MeTokenListApi.as_view(), name="me_tokens"),
    path("me/tokens/<int:token_id>/", api.MeTokenDetailApi.as_view(), name="me_token"),
    path("auth/token/", api.AuthTokenApi.as_view(), name="auth_token"),
    path("dump/", DumpApi.as_view(), name="dump"),
    path("changes/", ChangeFeedApi.as_view(), name="changes"),
    path("imports/", ImportApi.as_view(), name="imports"),
    path("imports/<int:pk>/undo/", ImportUndoApi.as_view(), name="import_undo"),
    path("answers/<int:pk>/verify/", AnswerVerifyApi.as_view(), name="answer_verify"),
    path("search/", SearchApi.as_view(), name="search"),
    path("search/similar/", SimilarQuestionApi.as_view(), name="search_similar"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: the CSP forbids inline ones.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
urlpatterns += moderation_urlpatterns
