"""Thin views over subscribers.services. Pages work without JavaScript; token failures are
friendly pages with a 4xx status, never an error trace."""

import functools
import json
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.ids import id_from
from papers.first_start import first_fetch_failure, listing_days, load_command
from papers.matching import split_terms
from papers.models import Paper
from subscribers import feedback as feedback_service
from subscribers import rating, services, tokens
from subscribers.forms import EmailLinkForm, PreferencesForm, PreviewForm, SignupForm
from subscribers.limits import client_ip, ip_limited
from subscribers.models import Status, Subscriber, Vote
from subscribers.tokens import TokenError, TokenProblem


def _consent(request: HttpRequest) -> services.Consent:
    return services.Consent(ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", ""))


def _token_problem(request: HttpRequest, problem: TokenProblem, purpose: str) -> HttpResponse:
    status = 410 if problem in (TokenProblem.EXPIRED, TokenProblem.USED) else 400
    context = {"problem": problem.value, "purpose": purpose, "form": EmailLinkForm()}
    return render(request, "subscribers/token_problem.html", context, status=status)


def with_subscriber(purpose: tokens.Purpose, page: str) -> Callable:
    """The view gets the subscriber its URL's token names; a bad token gets the friendly page."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, token: str) -> HttpResponse:
            try:
                subscriber = tokens.read_token(purpose, token)
            except TokenError as error:
                return _token_problem(request, error.problem, page)
            return view(request, subscriber, token)

        return wrapper

    return decorate


def _rate_limited(request: HttpRequest) -> HttpResponse:
    return render(request, "subscribers/rate_limited.html", status=429)


def _landing(request: HttpRequest, form: SignupForm, status: int = 200) -> HttpResponse:
    """The sign-up page: the form, the latest listing's top papers, and the preview of what the
    form's topics and keywords would have brought (settings.LANDING_CONTENT, newsletter's)."""
    data = form.data if form.is_bound else {}
    topics = data.getlist("topics") if hasattr(data, "getlist") else []
    landing = import_string(settings.LANDING_CONTENT)(topics, str(data.get("keywords", "")))
    failure = None if landing.day else first_fetch_failure()
    context = {
        "form": form,
        "consent_text": services.CONSENT_TEXT,
        "landing": landing,
        "first_fetch_failure": failure,
        "load_command": load_command(listing_days(timezone.localdate())) if failure else "",
    }
    return render(request, "home.html", context, status=status)


@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    """GET: the sign-up page. POST: the "Preview" button without JavaScript: the page again with
    the visitor's choices kept and their preview shown; nothing is stored or sent."""
    if request.method == "POST":
        return _landing(request, PreviewForm(request.POST))
    return _landing(request, SignupForm())


@require_GET
def signup_preview(request: HttpRequest) -> HttpResponse:
    """The preview alone, for the landing page's script to swap in (same origin, GET)."""
    landing = import_string(settings.LANDING_CONTENT)(
        request.GET.getlist("topics")[:50], request.GET.get("keywords", "")[:1000]
    )
    return render(request, "subscribers/_signup_preview.html", {"landing": landing})


@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return redirect("home")
    if ip_limited(request, "signup"):
        return _rate_limited(request)
    form = SignupForm(request.POST)
    if form.looks_like_a_bot():
        return redirect("subscribers:check-inbox")
    if not form.is_valid():
        return _landing(request, form, status=400)
    choices = services.SignupChoices(
        email=form.cleaned_data["email"],
        topics=list(form.cleaned_data["topics"]),
        frequency=form.cleaned_data["frequency"],
        weekday=form.cleaned_data["weekday"],
        delivery_hour=form.cleaned_data["delivery_hour"],
        time_zone=form.cleaned_data["time_zone"],
        include_trending=form.cleaned_data["include_trending"],
        keywords=split_terms(form.cleaned_data["keywords"]),
    )
    services.sign_up(choices, _consent(request))
    return redirect("subscribers:check-inbox")


@require_GET
def check_inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "subscribers/check_inbox.html", {"confirm_days": tokens.CONFIRM.max_age.days})


@never_cache
@require_GET
@with_subscriber(tokens.CONFIRM, "confirm")
def confirm(request: HttpRequest, subscriber: Subscriber, token: str) -> HttpResponse:
    if not services.can_confirm(subscriber):
        return _token_problem(request, TokenProblem.USED, "confirm")
    services.confirm(subscriber)
    subscriber.refresh_from_db()
    context = _rating_context(subscriber, tokens.make_token(tokens.MANAGE, subscriber))
    return render(request, "subscribers/welcome.html", context)


@require_http_methods(["GET", "POST"])
def manage_request(request: HttpRequest) -> HttpResponse:
    """ "Email me my link", for readers who lost it."""
    if request.method == "GET":
        return render(request, "subscribers/manage_request.html", {"form": EmailLinkForm()})
    if ip_limited(request, "manage-link"):
        return _rate_limited(request)
    form = EmailLinkForm(request.POST)
    if form.looks_like_a_bot():
        return redirect("subscribers:manage-sent")
    if not form.is_valid():
        return render(request, "subscribers/manage_request.html", {"form": form}, status=400)
    services.request_manage_link(form.cleaned_data["email"])
    return redirect("subscribers:manage-sent")


@require_GET
def manage_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "subscribers/manage_sent.html", {"manage_days": tokens.MANAGE.max_age.days})


def _initial_preferences(subscriber: Subscriber) -> dict:
    return {
        "topics": subscriber.topics.all(),
        "keywords": ", ".join(subscriber.keywords),
        "excluded_keywords": ", ".join(subscriber.excluded_keywords),
        "followed_authors": ", ".join(subscriber.followed_authors),
        "frequency": subscriber.frequency,
        "weekday": subscriber.weekday,
        "paused_until": subscriber.paused_until,
        "delivery_hour": subscriber.delivery_hour,
        "time_zone": subscriber.time_zone,
        "max_papers": subscriber.max_papers,
        "min_upvotes": subscriber.min_upvotes,
        "include_trending": subscriber.include_trending,
    }


@never_cache
@require_http_methods(["GET", "POST"])
@with_subscriber(tokens.MANAGE, "manage")
def manage(request: HttpRequest, subscriber: Subscriber, token: str) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            services.update_preferences(subscriber, services.Preferences(**form.cleaned_data))
            return redirect(reverse("subscribers:manage", args=[token]) + "?saved=1", permanent=False)
        status = 400
    else:
        form = PreferencesForm(initial=_initial_preferences(subscriber))
    context = {
        "subscriber": subscriber,
        "form": form,
        "token": token,
        "saved": request.GET.get("saved") == "1",
        "preview": import_string(settings.PREFERENCE_PREVIEW)(subscriber),
        "unsubscribe_token": tokens.make_token(tokens.UNSUBSCRIBE, subscriber),
        "can_resubscribe": subscriber.status == Status.UNSUBSCRIBED,
        "votes": subscriber.votes.select_related("paper")[:100],
        "learned": getattr(subscriber, "learned", None),
        "feed_url": tokens.feed_url(subscriber) if subscriber.feed_key else "",
    }
    return render(request, "subscribers/manage.html", context, status=status)


@never_cache
@require_GET
@with_subscriber(tokens.MANAGE, "manage")
def manage_export(request: HttpRequest, subscriber: Subscriber, token: str) -> HttpResponse:
    body = json.dumps(services.export_data(subscriber), indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="paperboy-my-data.json"'
    return response


@never_cache
@require_http_methods(["GET", "POST"])
@with_subscriber(tokens.MANAGE, "manage")
def manage_delete(request: HttpRequest, subscriber: Subscriber, token: str) -> HttpResponse:
    if request.method == "GET":
        return render(request, "subscribers/delete_confirm.html", {"subscriber": subscriber, "token": token})
    services.erase(subscriber)
    return render(request, "subscribers/deleted.html")


@never_cache
@require_POST
@with_subscriber(tokens.MANAGE, "manage")
def manage_resubscribe(request: HttpRequest, subscriber: Subscriber, token: str) -> HttpResponse:
    services.resubscribe(subscriber, _consent(request))
    return redirect(reverse("subscribers:manage", args=[token]) + "?saved=1")


@never_cache
@csrf_exempt  # authorised by the signed token; works for readers whose browser drops cookies
@require_http_methods(["GET", "POST"])
@with_subscriber(tokens.UNSUBSCRIBE, "unsubscribe")
def unsubscribe(request: HttpRequest, subscriber: Subscriber, token: str) -> HttpResponse:
    """GET asks (mail scanners follow links); POST unsubscribes."""
    if request.method == "GET":
        return render(request, "subscribers/unsubscribe_confirm.html", {"subscriber": subscriber})
    services.unsubscribe(subscriber)
    context = {"subscriber": subscriber, "manage_url": tokens.manage_url(subscriber)}
    return render(request, "subscribers/unsubscribed.html", context)


@csrf_exempt
@require_POST
def one_click_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """RFC 8058: a mail provider POSTs `List-Unsubscribe=One-Click`, without cookies; answer 200,
    no redirect, and stop mail at once."""
    if request.POST.get("List-Unsubscribe") != "One-Click":
        return HttpResponseBadRequest("Expected List-Unsubscribe=One-Click.\n", content_type="text/plain")
    try:
        subscriber = tokens.read_token(tokens.UNSUBSCRIBE, token)
    except TokenError:
        return HttpResponseBadRequest("This unsubscribe link is not valid.\n", content_type="text/plain")
    services.unsubscribe(subscriber)
    return HttpResponse("Unsubscribed.\n", content_type="text/plain")


@never_cache
@csrf_exempt  # authorised by the signed link; readers may come from a mail app without cookies
@require_http_methods(["GET", "POST"])
def feedback(request: HttpRequest, token: str) -> HttpResponse:
    """ "More / less like this". Mail scanners open links: GET only shows the buttons; a vote
    is recorded on POST, and can be changed or taken back."""
    try:
        subscriber, paper_id = tokens.read_feedback_token(token, request.GET.get("paper"))
    except TokenError as error:
        return _token_problem(request, error.problem, "feedback")
    paper = Paper.objects.filter(pk=paper_id).first()
    if paper is None:
        return _token_problem(request, TokenProblem.INVALID, "feedback")
    recorded = False
    if request.method == "POST":
        value = {"more": 1, "less": -1, "undo": 0}.get(request.POST.get("vote", ""))
        if value is None:
            return HttpResponseBadRequest("Choose more, less or undo.\n", content_type="text/plain")
        feedback_service.record_vote(subscriber, paper, value)
        recorded = True
    current = Vote.objects.filter(subscriber=subscriber, paper=paper).values_list("value", flat=True).first()
    context = {
        "paper": paper,
        "current": current,
        "suggested": request.GET.get("vote", "more"),
        "recorded": recorded,
        "manage_url": tokens.manage_url(subscriber),
    }
    return render(request, "subscribers/feedback.html", context)


def _posted_paper(request: HttpRequest) -> Paper | None:
    """The paper a form names by id; None for a missing or malformed id (not a 500)."""
    paper_id = id_from(request.POST.get("paper"))
    return None if paper_id is None else Paper.objects.filter(pk=paper_id).first()


@never_cache
@require_POST
@with_subscriber(tokens.MANAGE, "manage")
def manage_votes(request: HttpRequest, subscriber: Subscriber, token: str) -> HttpResponse:
    """Take back one vote, or forget everything learned."""
    if request.POST.get("forget") == "all":
        feedback_service.forget_learning(subscriber)
    elif (paper := _posted_paper(request)) is not None:
        feedback_service.record_vote(subscriber, paper, 0)
    return redirect(reverse("subscribers:manage", args=[token]) + "?saved=1#learned")


@never_cache
@require_POST
@with_subscriber(tokens.MANAGE, "manage")
def manage_feed(request: HttpRequest, subscriber: Subscriber, token: str) -> HttpResponse:
    """Create a new private feed link (revoking the old one) or revoke it."""
    if request.POST.get("feed") == "revoke":
        services.revoke_feed(subscriber)
    else:
        services.rotate_feed_key(subscriber)
    return redirect(reverse("subscribers:manage", args=[token]) + "?saved=1#feed")


def _rating_context(subscriber: Subscriber, token: str) -> dict:
    return {
        "subscriber": subscriber,
        "token": token,
        "manage_url": tokens.token_url("subscribers:manage", token),
        "rating": rating.rating_step(subscriber),
        "rate_count": rating.RATE_COUNT,
    }


@never_cache
@require_http_methods(["GET", "POST"])
@with_subscriber(tokens.MANAGE, "manage")
def rate(request: HttpRequest, subscriber: Subscriber, token: str) -> HttpResponse:
    """ "Rate a few papers" after signing up, to seed the reader's model. GET shows the papers;
    each vote is a POST (CSRF-protected: the buttons are only ever on our pages), then the page
    shows the next papers, chosen with what the vote taught."""
    if request.method == "POST":
        paper = _posted_paper(request)
        if paper is None or not rating.record_rating(subscriber, paper, request.POST.get("vote", "")):
            return HttpResponseBadRequest("Choose more or less like a paper.\n", content_type="text/plain")
        return redirect(reverse("subscribers:rate", args=[token]) + "#rate")
    return render(request, "subscribers/rate.html", _rating_context(subscriber, token))
