"""Fixed choices are shared between forms, not copied for each one (subscribers.forms)."""

from subscribers.forms import HOUR_CHOICES, PreferencesForm, SignupForm


def test_each_form_shares_the_fixed_choices_but_owns_its_widgets():
    first, second = SignupForm(), SignupForm()
    for name in ("frequency", "weekday", "delivery_hour"):
        base, one, two = SignupForm.base_fields[name], first.fields[name], second.fields[name]
        assert one is not two and one.widget is not two.widget is not base.widget
        assert one.choices is two.choices is base.choices
        assert one.widget.choices is base.widget.choices
        # What a view may change on its own form stays there.
        one.widget.attrs["data-x"] = "1"
        assert "data-x" not in two.widget.attrs and "data-x" not in base.widget.attrs


def test_the_shared_choices_still_render_and_validate():
    form = PreferencesForm()
    html = str(form["delivery_hour"])
    assert html.count("<option") == len(HOUR_CHOICES) == 24
    assert '<option value="7">07:00</option>' in html
    field = SignupForm().fields["delivery_hour"]
    assert field.clean("7") == 7
