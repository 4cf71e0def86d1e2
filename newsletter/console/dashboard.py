"""The curator dashboard (/admin/dashboard/) and the rate-limited admin login."""

from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django_ratelimit.core import is_ratelimited

from newsletter.console import charts, stats
from subscribers.limits import client_ip

RANGES = {"30": 30, "90": 90, "365": 365}


@permission_required("newsletter.view_delivery", raise_exception=True)
def dashboard(request: HttpRequest) -> HttpResponse:
    period = request.GET.get("days", "30")
    if period not in RANGES:
        period = "30"
    end = timezone.localdate()
    start = end - timedelta(days=RANGES[period] - 1)
    rows = [
        ("subscribers", "Subscribers over time", stats.subscribers_over_time(start, end), ""),
        ("sent", "Digests sent per day", stats.digests_sent_per_day(start, end), ""),
        ("rates", "Bounce and complaint rates", stats.bounce_and_complaint_rates(start, end), "%"),
        ("papers", "Papers listed per day", stats.papers_per_day(start, end), ""),
    ]
    charts_ = [
        {
            "id": key,
            "title": title,
            "svg": charts.line_chart(key, title, series, unit),
            "series": series,
            "rows": table_rows(series),
        }
        for key, title, series, unit in rows
    ]
    popularity = stats.topic_popularity()
    context = {
        **admin.site.each_context(request),
        "title": "Dashboard",
        "sends": stats.sends_in_progress(timezone.now()),
        # The configured ceiling (None: unlimited), shown beside the measured rate.
        "send_rate_limit": getattr(settings, "DIGEST_SEND_RATE", None),
        "charts": charts_,
        "topics_svg": charts.bar_chart("topics", "Readers per topic", popularity),
        "topics": popularity,
        "period": period,
        "ranges": list(RANGES),
        "start": start,
        "end": end,
    }
    return render(request, "admin/dashboard.html", context)


def table_rows(series: list[stats.Series]) -> list[tuple]:
    """(day, value, value, ...) per day: the charts' numbers as a table."""
    days = [day for day, _ in series[0].points] if series else []
    return [(day, *(s.points[i][1] for s in series)) for i, day in enumerate(days)]


def rate_limited_login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    """The admin login, refusing a client IP's posts beyond ADMIN_LOGIN_RATE (password guessing)."""
    if request.method == "POST" and is_ratelimited(
        request,
        group="admin.login",
        key=lambda _group, req: client_ip(req),
        rate=settings.ADMIN_LOGIN_RATE,
        increment=True,
    ):
        context = {**admin.site.each_context(request), "title": "Too many attempts"}
        return render(request, "admin/login_limited.html", context, status=429)
    return admin.site.login(request, extra_context)
