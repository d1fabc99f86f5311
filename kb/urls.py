from django.urls import path, re_path

from kb.views import html
from kb.views.search import search_page

app_name = "kb"

urlpatterns = [
    path("", html.home, name="home"),
    # Before question_detail, whose optional slug would otherwise swallow "revisions".
    path("questions/<int:pk>/revisions/", html.question_history, name="question_history"),
    re_path(
        r"^questions/(?P<pk>\d+)/(?:(?P<slug>[^/]+)/)?$",
        html.question_detail,
        name="question_detail",
    ),
    path("answers/<int:pk>/revisions/", html.answer_history, name="answer_history"),
    path("tags/", html.tag_list, name="tag_list"),
    path("tags/<str:name>/", html.tag_detail, name="tag_detail"),
    path("users/<str:username>/", html.user_detail, name="user_detail"),
    path("search/", search_page, name="search"),
]
