from django.urls import path

from practice import api

app_name = "practice_api"

urlpatterns = [
    path("next/", api.PracticeNextApi.as_view(), name="next"),
    path("reviews/", api.PracticeReviewApi.as_view(), name="reviews"),
    path("stats/", api.PracticeStatsApi.as_view(), name="stats"),
    path("schedule/", api.PracticeScheduleApi.as_view(), name="schedule"),
    path("import/", api.PracticeImportApi.as_view(), name="import"),
]
