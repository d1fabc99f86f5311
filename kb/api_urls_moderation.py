"""API routes for moderation (kb/views/api_moderation.py), added to kb/api_urls.py."""

from django.urls import path

from kb.views import api_moderation as api

urlpatterns = [
    # Flags
    path(
        "questions/<int:pk>/flags/",
        api.FlagCreateApi.as_view(kind="question"),
        name="question_flags",
    ),
    path("answers/<int:pk>/flags/", api.FlagCreateApi.as_view(kind="answer"), name="answer_flags"),
    path(
        "comments/<int:pk>/flags/", api.FlagCreateApi.as_view(kind="comment"), name="comment_flags"
    ),
    # Review queues
    path("review/edits/", api.ReviewEditListApi.as_view(), name="review_edits"),
    path("review/edits/mine/", api.MySuggestedEditListApi.as_view(), name="review_edits_mine"),
    path("review/edits/<int:pk>/", api.ReviewEditApi.as_view(), name="review_edit"),
    path("review/flags/", api.FlagQueueApi.as_view(), name="review_flags"),
    path(
        "review/flags/<str:kind>/<int:pk>/",
        api.FlagResolveApi.as_view(),
        name="review_flag_resolve",
    ),
    path("review/corrections/", api.CorrectionQueueApi.as_view(), name="review_corrections"),
    # Closing and merging
    path("questions/<int:pk>/close/", api.CloseApi.as_view(), name="question_close"),
    path("questions/<int:pk>/reopen/", api.ReopenApi.as_view(), name="question_reopen"),
    path("questions/<int:pk>/merge/", api.MergeApi.as_view(), name="question_merge"),
    path("questions/<int:pk>/protect/", api.ProtectApi.as_view(), name="question_protect"),
    path(
        "questions/<int:pk>/unprotect/",
        api.ProtectApi.as_view(protect=False),
        name="question_unprotect",
    ),
    path("questions/<int:pk>/timeline/", api.TimelineApi.as_view(), name="question_timeline"),
    # Users
    path("users/<str:username>/suspend/", api.SuspendApi.as_view(), name="user_suspend"),
    path("users/<str:username>/unsuspend/", api.UnsuspendApi.as_view(), name="user_unsuspend"),
    # The log
    path("moderation/log/", api.ModerationLogApi.as_view(), name="moderation_log"),
]
# Lock, unlock, delete and undelete for questions and answers; delete and undelete for comments.
for kind, actions in (
    ("question", ("lock", "unlock", "delete", "undelete")),
    ("answer", ("lock", "unlock", "delete", "undelete")),
    ("comment", ("delete", "undelete")),
):
    views = {
        "lock": api.LockApi,
        "unlock": api.UnlockApi,
        "delete": api.DeleteApi,
        "undelete": api.UndeleteApi,
    }
    for action in actions:
        urlpatterns.append(
            path(
                f"{kind}s/<int:pk>/{action}/",
                views[action].as_view(kind=kind),
                name=f"{kind}_{action}",
            )
        )
