"""What every Paperboy ModelAdmin shares."""

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseBase


class ModelAdmin(admin.ModelAdmin):
    """Django's ModelAdmin, but a bulk action posted with an id that is not one (a mangled or
    forged form, a number too big for the column) selects nothing for that id instead of failing
    with a 500: Django filters the rows by the posted values as they come."""

    def response_action(self, request: HttpRequest, queryset: QuerySet) -> HttpResponseBase | None:
        posted = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        valid = [value for value in posted if self._is_pk(value)]
        if len(valid) != len(posted):
            data = request.POST.copy()
            data.setlist(helpers.ACTION_CHECKBOX_NAME, valid)
            request.POST = data
        return super().response_action(request, queryset)

    def _is_pk(self, value: str) -> bool:
        """A value of the primary key's type and in its column's range (SQLite overflows)."""
        pk = self.model._meta.pk
        try:
            pk.run_validators(pk.to_python(value))
        except ValidationError:
            return False
        return True


class ReadOnlyModelAdmin(ModelAdmin):
    """A record of what happened (scrape runs, the delivery ledger, ESP events): shown, filtered
    and acted on, never added or edited by hand."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Django's field, but a posted id outside the primary key's type or range is the field's
    "not one of the available choices" error, not an OverflowError from SQLite (a 500)."""

    def _check_values(self, value):
        pk = self.queryset.model._meta.pk
        for item in value:
            try:
                pk.run_validators(pk.to_python(item))
            except ValidationError:
                raise ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": item}
                ) from None
        return super()._check_values(value)
