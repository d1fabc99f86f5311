from django.urls import path

from practice import views

app_name = "practice"

urlpatterns = [
    path("", views.practice_page, name="practice"),
    path("grade/", views.practice_grade, name="grade"),
    path("progress/", views.progress_page, name="progress"),
    path("sheet/", views.sheet_page, name="sheet"),
]
