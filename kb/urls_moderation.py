"""Page routes for moderation (kb/views/html_moderation.py), added to kb/urls.py."""

from django.urls import path

from kb.views import html_moderation as views

urlpatterns = [
    path("review/edits/", views.review_edits, name="review_edits"),
    path("review/edits/<int:pk>/", views.review_edit, name="review_edit"),
    path("review/flags/", views.flag_queue_view, name="review_flags"),
    path("review/flags/<str:kind>/<int:pk>/", views.flag_resolve, name="review_flag_resolve"),
    path("review/corrections/", views.correction_queue_view, name="review_corrections"),
    path("moderation/log/", views.moderation_log, name="moderation_log"),
    path("moderation/users/<str:username>/", views.user_suspend, name="user_suspend"),
    path("moderation/comments/<int:pk>/flag/", views.comment_flag, name="comment_flag"),
    path(
        "moderation/<str:kind>/<int:pk>/<str:action>/",
        views.post_action,
        name="moderation_action",
    ),
]
