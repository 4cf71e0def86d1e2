"""The tick groups readers of equal preferences by a stored key (subscribers.profile_keys): it
hashes only readers saved since their key was computed, and a changed reader joins the group of
their new preferences at the next tick."""

import pytest

from newsletter.sending.tick import in_profile_order
from subscribers.models import Subscriber
from subscribers.profile_keys import refresh_profile_keys
from tests.newsletter.personas import diffusion, reader, video
from tests.services import require_postgres

pytestmark = pytest.mark.django_db


def keys(*subscribers: Subscriber) -> list[int | None]:
    found = dict(Subscriber.objects.values_list("pk", "profile_key"))
    return [found[s.pk] for s in subscribers]


def test_equal_preferences_share_a_key_and_any_difference_parts_them():
    require_postgres()
    a = reader("a@example.test", [video(), diffusion()], keywords=["sora"])
    b = reader("b@example.test", [diffusion(), video()], keywords=["sora"])  # topics in another order
    c = reader("c@example.test", [video()], keywords=["sora"])
    d = reader("d@example.test", [video(), diffusion()], keywords=["veo"])
    e = reader("e@example.test", [video(), diffusion()], keywords=["sora"], max_papers=5)
    assert keys(a, b, c, d, e) == [None] * 5  # nothing computed at sign-up
    assert refresh_profile_keys([a.pk, b.pk, c.pk, d.pk, e.pk]) == 5
    ka, kb, kc, kd, ke = keys(a, b, c, d, e)
    assert ka == kb
    assert len({ka, kc, kd, ke}) == 4


def test_only_readers_saved_since_their_key_was_computed_are_hashed_again():
    require_postgres()
    a = reader("a@example.test", [video()])
    b = reader("b@example.test", [video()])
    assert refresh_profile_keys([a.pk, b.pk]) == 2
    assert refresh_profile_keys([a.pk, b.pk]) == 0  # nothing saved since
    before = keys(b)
    b = Subscriber.objects.get(pk=b.pk)  # as a form loads it: with its key
    b.topics.add(diffusion())
    b.save()  # any save (the preference centre, the admin, an import) makes the key stale
    assert refresh_profile_keys([a.pk, b.pk]) == 1
    assert keys(b) != before


def test_a_reader_who_changed_preferences_moves_to_their_new_group_at_the_next_tick():
    require_postgres()
    video_readers = [reader(f"v{n}@example.test", [video()]) for n in range(3)]
    both_readers = [reader(f"b{n}@example.test", [video(), diffusion()]) for n in range(3)]
    everyone = [s.pk for s in video_readers + both_readers]
    in_profile_order(everyone)  # the first tick computes every key
    mover = Subscriber.objects.get(pk=video_readers[0].pk)
    mover.topics.add(diffusion())
    mover.save()
    order = in_profile_order(everyone)
    both = sorted([mover.pk] + [s.pk for s in both_readers])
    only_video = sorted(s.pk for s in video_readers[1:])
    assert order in (both + only_video, only_video + both)
