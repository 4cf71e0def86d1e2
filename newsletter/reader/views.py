from datetime import date

from django.contrib.syndication.views import Feed
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from newsletter.models import Delivery, Edition
from newsletter.reader.archive import delivered_items, public_digest, published_editions
from newsletter.sending.context import VIEW_SALT, paper_context
from subscribers.tokens import feedback_links

# "View in browser" links live as long as people keep old emails around.
VIEW_MAX_AGE = 60 * 60 * 24 * 400


def archive_index(request: HttpRequest) -> HttpResponse:
    return render(request, "newsletter/archive_index.html", {"editions": published_editions()[:120]})


def archive_edition(request: HttpRequest, day: str) -> HttpResponse:
    try:
        listed_on = date.fromisoformat(day)
    except ValueError:
        raise Http404("No edition on that date.") from None
    edition = get_object_or_404(published_editions(), listed_on=listed_on)
    items = [paper_context(item) for item in public_digest(edition)]
    return render(request, "newsletter/archive_edition.html", {"edition": edition, "items": items})


def view_in_browser(request: HttpRequest, token: str) -> HttpResponse:
    try:
        payload = signing.loads(token, salt=VIEW_SALT, max_age=VIEW_MAX_AGE)
        delivery = Delivery.objects.select_related("edition", "subscriber").get(pk=payload["d"])
    except (signing.BadSignature, Delivery.DoesNotExist, KeyError, TypeError):
        return render(request, "newsletter/view_unavailable.html", status=404)
    subscriber = delivery.subscriber
    delivered = delivered_items(delivery)
    links = feedback_links(subscriber, [item.paper.pk for item in delivered])
    items = [
        {**paper_context(item), "more_url": links[item.paper.pk][0], "less_url": links[item.paper.pk][1]}
        for item in delivered
    ]
    context = {"edition": delivery.edition, "items": items, "weekly": subscriber.frequency == "weekly"}
    response = render(request, "newsletter/view_in_browser.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response


class EditionFeed(Feed):
    title = "Paperboy: daily research papers"
    description = "Each day's edition of Paperboy: the editor's note, picks and the top papers."
    feed_type = Atom1Feed

    def link(self) -> str:
        return reverse("newsletter:archive")

    def items(self) -> list[Edition]:
        return list(published_editions()[:30])

    def item_title(self, item: Edition) -> str:
        return f"Paperboy, {item.listed_on:%A %-d %B %Y}"

    def item_description(self, item: Edition) -> str:
        titles = [ranked.paper.title for ranked in public_digest(item)]
        note = f"{item.curator_note}\n\n" if item.curator_note else ""
        return note + "\n".join(f"• {title}" for title in titles)

    def item_link(self, item: Edition) -> str:
        return reverse("newsletter:archive-edition", args=[item.listed_on.isoformat()])

    def item_updateddate(self, item: Edition):
        return item.sent_at or item.released_at or item.created_at
