from django.contrib import admin
from django.urls import include, path

from config.health import healthz
from newsletter.console.dashboard import dashboard, rate_limited_login
from newsletter.sending import outbox_views as dev_views
from subscribers import views as subscriber_views

urlpatterns = [
    path("", subscriber_views.home, name="home"),
    path("", include("subscribers.urls")),
    path("", include("newsletter.urls")),
    path("healthz", healthz, name="healthz"),
    path("", include("config.favicon")),
    # Before admin.site.urls, which would match them too.
    path("admin/login/", rate_limited_login, name="admin-login"),
    path("admin/dashboard/", admin.site.admin_view(dashboard), name="admin-dashboard"),
    path("admin/", admin.site.urls),
    # ESP tracking webhooks (Anymail), refused without ANYMAIL_WEBHOOK_SECRET.
    path("esp/anymail/", include("newsletter.tracking.webhooks")),
    # The local outbox answers 404 unless DEBUG is on.
    path("dev/outbox/", dev_views.outbox_list, name="dev-outbox"),
    path("dev/outbox/<str:name>/", dev_views.outbox_detail, name="dev-outbox-detail"),
    path("dev/outbox/<str:name>/html", dev_views.outbox_html, name="dev-outbox-html"),
]
