from django.urls import path

from notifications import feeds, views

app_name = "notifications"

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read/", views.inbox_mark_all_read, name="inbox_read"),
    path("inbox/<int:pk>/", views.notification_open, name="open"),
    path("achievements/", views.achievements, name="achievements"),
    path("settings/notifications/", views.notification_settings, name="settings"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    # Before kb's question_detail, whose optional slug would take "follow" for a slug.
    path("questions/<int:pk>/follow/", views.question_follow, name="question_follow"),
    path("questions/<int:pk>/bookmark/", views.question_bookmark, name="question_bookmark"),
    path("tags/<str:name>/watch/", views.tag_preference, name="tag_preference"),
    path("users/<str:username>/message/", views.moderator_message, name="moderator_message"),
    path("feeds/questions/", feeds.NewestQuestionsFeed(), name="feed_questions"),
    path("feeds/questions/<int:pk>/", feeds.QuestionFeed(), name="feed_question"),
    path("feeds/tags/<str:name>/", feeds.TagFeed(), name="feed_tag"),
    path("feeds/users/<str:username>/", feeds.UserFeed(), name="feed_user"),
]
