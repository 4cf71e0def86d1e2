"""The time zone is a text box with suggestions (subscribers.forms.TimeZoneInput): a typed name
is read forgivingly and checked against the IANA list; the page carries no 600-option menu."""

import pytest
from django import forms

from subscribers.forms import TimeZoneField


@pytest.mark.parametrize(
    ("typed", "read"),
    [("Europe/Berlin", "Europe/Berlin"), (" europe/berlin ", "Europe/Berlin"),
     ("America/New York", "America/New_York"), ("utc", "UTC")],
)  # fmt: skip
def test_a_typed_name_is_read_as_the_zone_it_names(typed, read):
    assert TimeZoneField().clean(typed) == read


@pytest.mark.parametrize("typed", ["Mars/Olympus", "EST5EDT", "posix/Europe/Berlin", ""])
def test_anything_else_is_refused_with_an_example(typed):
    with pytest.raises(forms.ValidationError) as refused:
        TimeZoneField().clean(typed)
    assert "Europe/Berlin" in str(refused.value) or "required" in str(refused.value)


def test_the_box_links_suggestions_and_renders_no_menu():
    html = TimeZoneField().widget.render("time_zone", "Europe/Paris", {"id": "id_time_zone"})
    assert 'list="time-zone-names"' in html and '<datalist id="time-zone-names"></datalist>' in html
    assert "<option" not in html and 'value="Europe/Paris"' in html
