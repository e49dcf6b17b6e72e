"""The staff's outcomes forms: what came of a call, one instrument's answers given by phone, a conversion to surgery.

Staff pages are in English (the practice's choice); an instrument's questions are always
its official English wording, never translated here.
"""

from datetime import date
from typing import Any

from django import forms
from django.forms import BoundField

from outcomes import services
from outcomes.forms.survey import ItemsForm
from outcomes.instruments.base import Instrument, Section
from outcomes.models import FollowUpCall, SurgeryConversion
from outcomes.survey import Screen


class CallForm(forms.Form):
    """What came of one call about a follow-up (one button per outcome on the call list)."""

    outcome = forms.ChoiceField(
        choices=FollowUpCall.Outcome.choices,
        error_messages={
            "required": "Choose what came of the call.",
            "invalid_choice": "Choose what came of the call from the buttons shown.",
        },
    )


class PhoneAnswersForm(ItemsForm):
    """Every item of one instrument on one page, as the patient answers them on the phone.

    The questionnaire's own form (`ItemsForm`) over a screen holding all the instrument's
    sections, so each item is a set of radio buttons valued with the guide's numeric codes
    and the same items are optional or one-of as on the patient's pages.
    """

    def __init__(self, data: Any = None, *, instrument: Instrument, part: str, **kwargs: Any) -> None:
        every = tuple(code for section in instrument.sections for code in section.items)
        every += tuple(item.code for item in instrument.items if item.code not in every)
        screen = Screen(
            number=1, instrument=instrument, section=Section(code="all", title={}, instructions={}, items=every)
        )
        super().__init__(
            data,
            screen=screen,
            language="en",
            optional=services.OPTIONAL_ITEMS.get(instrument.code, frozenset()),
            one_of=services.ONE_OF.get(instrument.code, ()),
            # SANE asks about "your {part}": the episode's body site (see outcomes/instruments/sane.py).
            part=part,
            **kwargs,
        )
        self.instrument = instrument
        for name in self.fields:
            if self.fields[name].required:
                self.fields[name].error_messages["required"] = "Choose the patient's answer to this question."

    def sections(self) -> list[tuple[Section | None, list[BoundField]]]:
        """The instrument's sections with their items' fields, in the form's order (for the page's headings)."""
        grouped: list[tuple[Section | None, list[BoundField]]] = []
        seen: set[str] = set()
        for section in self.instrument.sections:
            grouped.append((section, [self[code] for code in section.items]))
            seen.update(section.items)
        rest = [self[name] for name in self.fields if name not in seen]
        if rest:
            grouped.append((None, rest))
        return grouped


class SurgeryRecordForm(forms.Form):
    """A conversion of the treated site to surgery: when, which operation, and what else is known."""

    surgery_date = forms.DateField(
        label="Date of the operation",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="An approximate date is fine if the exact day is not known.",
        error_messages={"required": "Enter the date of the operation.", "invalid": "Enter a date, e.g. 2027-04-15."},
    )
    procedure = forms.ChoiceField(
        label="Operation",
        choices=[("", "Choose one"), *SurgeryConversion.Procedure.choices],
        error_messages={"required": "Choose the operation, or Other surgery."},
    )
    details = forms.CharField(
        label="Details",
        required=False,
        max_length=200,
        help_text="Optional: where, by whom, what was found (200 characters at most).",
    )

    def __init__(self, *args: Any, treated_on: date | None, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.treated_on = treated_on
        self.today = today

    def clean_surgery_date(self) -> date:
        when: date = self.cleaned_data["surgery_date"]
        if when > self.today:
            raise forms.ValidationError(
                "This date is in the future: record a conversion once the operation has taken place.", code="future"
            )
        if self.treated_on is not None and when < self.treated_on:
            raise forms.ValidationError(
                f"This date is before the procedure of {self.treated_on:%B} {self.treated_on.day}, "
                f"{self.treated_on.year}: a conversion comes after treatment.",
                code="before_procedure",
            )
        return when

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.treated_on is None:
            raise forms.ValidationError(
                "This episode has no signed procedure yet: a conversion to surgery is recorded after treatment.",
                code="untreated",
            )
        return data
