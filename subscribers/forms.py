"""The public forms. Every text input is one line: a line break anywhere is refused, since any
value may end up in a header or a log line."""

import time
import zoneinfo
from datetime import date
from functools import cache
from typing import Any

from django import forms
from django.conf import settings
from django.core import signing
from django.core.validators import EmailValidator
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import capfirst

from config.ids import MAX_ID_DIGITS
from subscribers.addresses import NON_ASCII_MAILBOX, address_problem
from subscribers.models import WEEKDAYS, Frequency, Topic, validate_single_line

_FORM_SALT = "paperboy.subscribers.form-started"
TRENDING_LABEL = "Also send the day's top trending papers, in a short section after yours"


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    # Region/City names only: the legacy aliases (EST5EDT, posix/...) would only confuse.
    zones = sorted(
        z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith(("posix", "right", "Etc"))
    )
    return [("UTC", "UTC"), *((z, z.replace("_", " ")) for z in zones)]


HOUR_CHOICES = [(h, f"{h:02d}:00") for h in range(24)]


@cache
def _time_zone_names() -> dict[str, str]:
    """Each zone by its folded name, so "europe/new york" is read as America/New_York's kin."""
    return {_folded(name): name for name, _ in time_zone_choices()}


def _folded(name: str) -> str:
    return name.strip().replace(" ", "_").casefold()


class TimeZoneInput(forms.TextInput):
    """A text box with suggestions, not a menu: ~600 <option>s were 40% of a phone's work to show
    the page (style and layout; 1.10 s of main-thread tasks down to 0.64 s at Lighthouse's 4x CPU
    slowdown). static/js/time-zones.js fills the suggestions from the browser on first focus;
    without JavaScript the reader types a name, read against the same list."""

    DATALIST = "time-zone-names"

    def __init__(self) -> None:
        attrs = {
            "list": self.DATALIST,
            "autocomplete": "off",
            "spellcheck": "false",
            "autocapitalize": "none",
        }
        super().__init__(attrs=attrs)

    def render(self, name, value, attrs=None, renderer=None) -> str:
        box = super().render(name, value, attrs, renderer)
        return mark_safe(f'{box}<datalist id="{self.DATALIST}"></datalist>')  # noqa: S308 (ours)


class TimeZoneField(forms.ChoiceField):
    """An IANA time zone name, typed or suggested (TimeZoneInput), checked against a dict:
    ChoiceField's check walks (and re-normalises) all ~600 choices on every post."""

    widget = TimeZoneInput
    default_error_messages = {
        "invalid_choice": "Enter a time zone name such as Europe/Berlin or America/New_York, or UTC."
    }

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault(
            "help_text", "A name such as Europe/Berlin or America/New_York; suggestions as you type."
        )
        super().__init__(choices=time_zone_choices, **kwargs)

    def to_python(self, value) -> str:
        text = super().to_python(value)
        return _time_zone_names().get(_folded(text), text)

    def valid_value(self, value: str) -> bool:
        return _time_zone_names().get(_folded(value)) == value


class SharedChoicesMixin:
    """For choices fixed in code: each form's copy of the field, and of its widget, shares them.
    Django deep-copies a field's choices for every form it builds and re-normalises each one
    through the widget's setter (a third of the sign-up form's setup, for the 24 hours alone);
    that only guards choices changed in place, which these never are."""

    def __deepcopy__(self, memo: dict) -> forms.Field:
        # The plain Widget's copy (own attrs, shared rest) goes in memo for Field's to find.
        forms.Widget.__deepcopy__(self.widget, memo)  # type: ignore[attr-defined]
        memo[id(self._choices)] = self._choices  # type: ignore[attr-defined]
        return super().__deepcopy__(memo)  # type: ignore[misc]


class FixedChoiceField(SharedChoicesMixin, forms.ChoiceField):
    pass


class FixedTypedChoiceField(SharedChoicesMixin, forms.TypedChoiceField):
    pass


class SingleLineMixin:
    def clean(self) -> dict:
        cleaned = super().clean()  # type: ignore[misc]
        for name, value in self.data.items():
            if isinstance(value, str) and ("\n" in value or "\r" in value) and name in self.fields:
                self.add_error(name, "Line breaks are not allowed here.")  # type: ignore[attr-defined]
        return cleaned


def _signed_start() -> str:
    return signing.dumps(time.time(), salt=_FORM_SALT)


class BotTrapMixin(forms.Form):
    """A honeypot field people never see and a signed start time: bots fill every field and
    post at once. The view answers a caught bot exactly like a person, and sends nothing."""

    website = forms.CharField(
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    # A callable initial is signed when the form is shown, not for every form a POST builds.
    started = forms.CharField(required=False, widget=forms.HiddenInput, initial=_signed_start)

    def looks_like_a_bot(self) -> bool:
        if self.data.get("website"):
            return True
        try:
            started = float(signing.loads(self.data.get("started", ""), salt=_FORM_SALT, max_age=86400))
        except (signing.BadSignature, TypeError, ValueError):
            return True
        return time.time() - started < settings.SUBSCRIBERS_MIN_FILL_SECONDS


class TopicsField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs) -> None:
        super().__init__(queryset=Topic.objects.filter(active=True), required=False, **kwargs)

    def label_from_instance(self, obj: Topic) -> str:
        return obj.name

    def clean(self, value: Any) -> list[Topic] | QuerySet[Topic]:  # type: ignore[override]
        # Nothing ticked: an empty list. Django's empty queryset still compiles its SQL, ordering
        # and all, each time it is listed: a twentieth of a sign-up's CPU, to find nothing.
        if not value and not self.required:
            return []
        return super().clean(value)

    def _check_values(self, value):  # type: ignore[override]
        # An id past 64 bits overflows SQLite's integers (a 500, found by fuzzing): no real id is
        # that long, so it is an invalid choice like any other.
        for pk in value:
            if len(str(pk)) > MAX_ID_DIGITS:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                )
        return super()._check_values(value)


class AddressField(forms.EmailField):
    """An address Paperboy can send to (subscribers.addresses). A mailbox name that is not ASCII
    gets its own reason: Django's validator would refuse it with a bare "Enter a valid email
    address", which leaves jörg@ guessing what is wrong."""

    default_validators = []  # address_problem runs Django's validator itself

    def validate(self, value: str) -> None:
        super().validate(value)
        problem = address_problem(value) if value else None
        if problem == NON_ASCII_MAILBOX:
            raise forms.ValidationError(f"{capfirst(problem)}.", code="non_ascii_mailbox")
        if problem:
            raise forms.ValidationError(EmailValidator.message, code="invalid")


class TermsField(forms.CharField):
    """Comma-separated words or phrases, on one line."""

    def __init__(self, **kwargs) -> None:
        super().__init__(required=False, max_length=1000, validators=[validate_single_line], **kwargs)


class SignupForm(SingleLineMixin, BotTrapMixin):
    email = AddressField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "placeholder": "you@example.com"}),
    )
    topics = TopicsField(label="Topics")
    keywords = TermsField(
        label="Your own keywords (optional)",
        help_text="Comma-separated words or phrases, e.g. speculative decoding, protein folding.",
    )
    frequency = FixedChoiceField(
        choices=Frequency.choices[:2], initial=Frequency.DAILY, widget=forms.RadioSelect, label="How often"
    )
    weekday = FixedTypedChoiceField(
        choices=WEEKDAYS, coerce=int, initial=0, label="Weekly on", help_text="For weekly digests."
    )
    delivery_hour = FixedTypedChoiceField(choices=HOUR_CHOICES, coerce=int, initial=7, label="Delivery time")
    time_zone = TimeZoneField(label="Time zone")
    # Off unless asked: a reader who picks topics expects papers on them (issue 14).
    include_trending = forms.BooleanField(required=False, initial=False, label=TRENDING_LABEL)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].initial = settings.SUBSCRIBERS_DEFAULT_TIME_ZONE


class PreviewForm(SignupForm):
    """The sign-up form re-shown after "Preview": the visitor's choices kept, and no error
    shown, since they have not asked to subscribe yet."""

    def full_clean(self) -> None:
        self._errors = forms.utils.ErrorDict()
        self.cleaned_data = {}


class EmailLinkForm(SingleLineMixin, BotTrapMixin):
    email = AddressField(
        label="Email address", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class PreferencesForm(SingleLineMixin, forms.Form):
    topics = TopicsField(label="Topics")
    keywords = TermsField(label="Your own keywords", help_text="Comma-separated words or phrases.")
    excluded_keywords = TermsField(label="Never send papers about", help_text="Comma-separated; these win.")
    followed_authors = TermsField(label="Authors you follow", help_text="Full names, comma-separated.")
    frequency = FixedChoiceField(choices=Frequency.choices, widget=forms.RadioSelect, label="How often")
    weekday = FixedTypedChoiceField(
        choices=WEEKDAYS, coerce=int, label="Weekly on", help_text="For weekly digests."
    )
    paused_until = forms.DateField(
        required=False,
        label="Paused until",
        help_text="Leave empty to pause until you come back.",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    delivery_hour = FixedTypedChoiceField(choices=HOUR_CHOICES, coerce=int, label="Delivery time")
    time_zone = TimeZoneField(label="Time zone")
    max_papers = forms.IntegerField(min_value=1, max_value=50, label="At most this many papers per digest")
    min_upvotes = forms.IntegerField(
        min_value=0, max_value=100000, label="Only papers with at least this many upvotes"
    )
    include_trending = forms.BooleanField(required=False, label=TRENDING_LABEL)

    def clean_paused_until(self) -> date | None:
        until = self.cleaned_data.get("paused_until")
        if until is not None and until <= timezone.localdate():
            raise forms.ValidationError("Pick a date in the future, or leave it empty.")
        return until
