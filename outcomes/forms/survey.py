"""The questionnaire's forms: one screen of an instrument's items, and the question about surgery since."""

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from outcomes.instruments.base import Item
from outcomes.models import SurgeryConversion
from outcomes.survey import Screen


class ItemsForm(forms.Form):
    """One screen: each item a set of radio buttons valued with the guide's numeric codes."""

    def __init__(
        self,
        *args: Any,
        screen: Screen,
        language: str,
        optional: frozenset[str],
        one_of: tuple[tuple[str, ...], ...] = (),
        part: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.screen = screen
        self.one_of = [group for group in one_of if set(group) <= {item.code for item in screen.items()}]
        grouped = {code for group in self.one_of for code in group}
        for item in screen.items():
            self.fields[item.code] = forms.TypedChoiceField(
                label=_text(item.text, language).replace("{part}", part),
                choices=_choices(item, language),
                coerce=int,
                widget=forms.RadioSelect,
                required=item.code not in optional and item.code not in grouped,
                error_messages={"required": _("Please choose one answer for this question.")},
            )
            self.fields[item.code].item = item  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for group in self.one_of:
            given = [code for code in group if data.get(code) not in ("", None)]
            if len(given) != 1:
                message = (
                    _("Please answer one of these questions: the one that fits you.")
                    if not given
                    else _("Please answer only one of these questions: the one that fits you.")
                )
                for code in group:
                    if code not in self.errors:
                        self.add_error(code, message)
        return data

    def questions(self) -> list[dict[str, Any]]:
        """Each question with its boxes, ready to print: the radio inputs are written by the template itself.

        Django's widget templates render each of a page's boxes one by one (about 40 on a KOOS
        page), which was most of the page's time (`bench survey_page_vs_bare_view`).
        """
        shown = []
        for name, field in self.fields.items():
            bound = self[name]
            value = bound.value()
            chosen = "" if value in (None, "") else str(value)
            shown.append(
                {
                    "name": bound.html_name,
                    "id": bound.auto_id,
                    "label": field.label,
                    "errors": bound.errors,
                    "required": field.required,
                    "scale": not field.item.options,  # type: ignore[attr-defined]
                    "choices": [
                        {
                            "id": f"{bound.auto_id}_{n}",
                            "value": str(code),
                            "label": label,
                            "checked": str(code) == chosen,
                        }
                        for n, (code, label) in enumerate(field.choices)  # type: ignore[attr-defined]
                    ],
                }
            )
        return shown

    def answers(self) -> dict[str, int | None]:
        return {code: (None if value in ("", None) else int(value)) for code, value in self.cleaned_data.items()}

    def answered_so_far(self) -> dict[str, int]:
        """The well-formed answers in an unvalidated POST (for "Go back", which keeps what was ticked)."""
        kept: dict[str, int] = {}
        for code, field in self.fields.items():
            raw = self.data.get(self.add_prefix(code))
            try:
                value = field.clean(raw)
            except forms.ValidationError:
                continue
            if value not in ("", None):
                kept[code] = int(value)
        return kept


def _text(text: Any, language: str) -> str:
    return str(text.get(language) or text.get("en", ""))


def _choices(item: Item, language: str) -> list[tuple[int, str]]:
    if item.options:
        return [(option.code, _text(option.text, language)) for option in item.options]
    assert item.low is not None and item.high is not None
    anchors = item.anchors.get(language) or item.anchors.get("en")
    choices = []
    for value in range(item.low, item.high + 1):
        label = str(value)
        if anchors and value == item.low:
            label = f"{value} ({anchors[0]})"
        elif anchors and value == item.high:
            label = f"{value} ({anchors[1]})"
        choices.append((value, label))
    return choices


class SurgeryForm(forms.Form):
    """After treatment: has the treated site had an operation since? If so, when and which."""

    had_surgery = forms.TypedChoiceField(
        label=_("Since your treatment at the practice, have you had an operation on the treated area?"),
        choices=[("no", _("No")), ("yes", _("Yes"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Please answer yes or no.")},
    )
    surgery_date = forms.DateField(
        label=_("When was the operation?"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("An approximate date is fine."),
        error_messages={"invalid": _("Enter a date, for example 2027-04-15.")},
    )
    procedure = forms.ChoiceField(
        label=_("Which operation?"),
        required=False,
        choices=[("", _("Choose one")), *SurgeryConversion.Procedure.choices],
    )

    def __init__(self, *args: Any, treated_on: date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.treated_on = treated_on

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("had_surgery"):
            when = data.get("surgery_date")
            if when is None and "surgery_date" not in self.errors:
                self.add_error("surgery_date", _("Please give the date of the operation, even roughly."))
            elif when is not None and when > timezone.localdate():
                self.add_error("surgery_date", _("This date is in the future."))
            elif when is not None and self.treated_on is not None and when < self.treated_on:
                self.add_error("surgery_date", _("This date is before your treatment. Please check it."))
            if not data.get("procedure"):
                self.add_error("procedure", _("Please choose the operation, or Other surgery."))
        return data

    def surgery(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "had_surgery": bool(data["had_surgery"]),
            "date": data.get("surgery_date"),
            "procedure": data.get("procedure"),
        }
