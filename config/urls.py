from django.contrib import admin
from django.urls import path
from django.views.generic import TemplateView

from config.health import healthz
from newsletter import dev_views

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # The local outbox answers 404 unless DEBUG is on.
    path("dev/outbox/", dev_views.outbox_list, name="dev-outbox"),
    path("dev/outbox/<str:name>/", dev_views.outbox_detail, name="dev-outbox-detail"),
    path("dev/outbox/<str:name>/html", dev_views.outbox_html, name="dev-outbox-html"),
]
