from django.urls import path

from notifications import api

app_name = "notifications_api"

urlpatterns = [
    path("me/inbox/", api.InboxApi.as_view(), name="inbox"),
    path("me/inbox/read/", api.InboxReadApi.as_view(), name="inbox_read"),
    path("me/achievements/", api.AchievementsApi.as_view(), name="achievements"),
    path("me/tags/", api.MeTagsApi.as_view(), name="tags"),
    path("questions/<int:pk>/follow/", api.QuestionFollowApi.as_view(), name="question_follow"),
    path(
        "questions/<int:pk>/bookmark/", api.QuestionBookmarkApi.as_view(), name="question_bookmark"
    ),
]
