from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps import views as sitemap_views
from django.urls import include, path

from accounts.views import language_choose
from config.metrics import metrics_view
from kb.sitemaps import SITEMAPS
from kb.views import seo

urlpatterns = [
    path("api/v1/", include("notifications.api_urls")),
    path("api/v1/practice/", include("practice.api_urls")),
    path("api/v1/", include("kb.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("language/<str:language>/", language_choose, name="language_choose"),
    path("robots.txt", seo.robots_txt, name="robots_txt"),
    path("favicon.ico", seo.favicon, name="favicon"),
    path(
        "sitemap.xml",
        sitemap_views.index,
        {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap_section"},
        name="sitemap_index",
    ),
    path("sitemap-<section>.xml", seo.sitemap_section, name="sitemap_section"),
    path("metrics", metrics_view, name="metrics"),
]
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("", include("notifications.urls")),
    path("practice/", include("practice.urls")),
    path("", include("kb.urls")),
    prefix_default_language=False,
)

handler400 = "kb.views.errors.bad_request"
handler403 = "kb.views.errors.permission_denied"
handler404 = "kb.views.errors.page_not_found"
handler500 = "kb.views.errors.server_error"
