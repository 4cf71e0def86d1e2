"""A reader's private feed: their personalised picks of the recent editions, for feed readers."""

from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest
from django.utils.feedgenerator import Atom1Feed

from newsletter.models import Edition
from newsletter.ranking.rank import Ranked, candidates_of, profile_of, rank
from newsletter.sending.context import excerpt
from papers.models import Paper
from subscribers import tokens
from subscribers.models import Subscriber
from subscribers.reader_model import learned_of

FEED_EDITIONS = 7


def feed_entries(subscriber: Subscriber) -> list[tuple[Edition, Ranked]]:
    """The reader's picks from each recent released edition, newest first, each paper once."""
    editions = [
        e for e in Edition.objects.prefetch_related("picks", "hidden")[: FEED_EDITIONS * 2] if e.is_released
    ]
    editions = editions[:FEED_EDITIONS]
    paper_ids = {int(pid) for e in editions for pid in e.scores.get("papers", {})}
    papers = Paper.objects.in_bulk(paper_ids)
    profile = profile_of(
        subscriber, subscriber.topics.all(), learned_of(getattr(subscriber, "learned", None))
    )
    entries, seen = [], set()
    for edition in editions:
        for ranked in rank(profile, candidates_of([edition], papers), seen):
            seen.add(ranked.paper.pk)
            entries.append((edition, ranked))
    return entries


class PrivateFeed(Feed):
    feed_type = Atom1Feed
    title = "Paperboy: your papers"
    description = "The papers Paperboy picked for you from the Hugging Face Daily Papers."

    def get_object(self, request: HttpRequest, token: str) -> Subscriber:
        try:
            return tokens.read_feed_token(token)
        except tokens.TokenError:
            raise Http404("No such feed (the link may have been revoked).") from None

    def link(self, subscriber: Subscriber) -> str:
        return "/archive/"

    def items(self, subscriber: Subscriber) -> list[tuple[Edition, Ranked]]:
        return feed_entries(subscriber)

    def item_title(self, item: tuple[Edition, Ranked]) -> str:
        return item[1].paper.title

    def item_description(self, item: tuple[Edition, Ranked]) -> str:
        ranked = item[1]
        return f"Why: {'; '.join(ranked.reasons)}\n\n{excerpt(ranked.paper)}"

    def item_link(self, item: tuple[Edition, Ranked]) -> str:
        return item[1].paper.hf_url

    def item_guid(self, item: tuple[Edition, Ranked]) -> str:
        return f"paperboy:{item[0].listed_on}:{item[1].paper.arxiv_id}"

    item_guid_is_permalink = False

    def item_updateddate(self, item: tuple[Edition, Ranked]):
        edition = item[0]
        return edition.released_at or edition.created_at
