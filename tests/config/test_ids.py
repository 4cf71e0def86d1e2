"""Ids read from outside (forms, link queries, webhooks): ASCII digits that fit a 64-bit column."""

import pytest

from config.ids import id_from


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", 42),
        ("0", 0),
        ("9" * 18, int("9" * 18)),
        ("9" * 19, None),  # past a 64-bit integer column
        ("", None),
        (None, None),
        ("-1", None),
        (" 7", None),
        ("7.0", None),
        ("٣", None),  # a digit, but not ASCII: int() would take it
        ("²", None),  # isdigit() is true for superscripts; int() would raise
    ],
)
def test_an_id_is_ascii_digits_that_fit_the_column(text, expected):
    assert id_from(text) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("ids", [[], [2], [0, 1, 3]])
def test_any_of_finds_what_pk_in_finds(ids):
    from django.db.models import F

    from config.ids import AnyOf
    from subscribers.models import Topic

    made = [Topic.objects.create(name=f"T{i}", slug=f"t{i}", include_terms="t").pk for i in range(4)]
    wanted = [made[i] for i in ids] + [10**12]  # and an id no row has
    found = set(Topic.objects.filter(AnyOf(F("pk"), wanted)))
    assert found == set(Topic.objects.filter(pk__in=wanted))
    assert len(found) == len(ids)


@pytest.mark.django_db
def test_any_of_sends_ids_as_one_array_on_postgresql():
    from django.db.models import F

    from config.ids import AnyOf
    from subscribers.models import Topic
    from tests.services import require_postgres

    require_postgres()
    sql, params = Topic.objects.filter(AnyOf(F("pk"), list(range(500)))).query.sql_with_params()
    assert "= ANY(%s::bigint[])" in sql
    assert params == ("{" + ",".join(map(str, range(500))) + "}",)
