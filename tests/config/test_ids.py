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
