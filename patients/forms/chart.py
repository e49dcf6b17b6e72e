"""Forms of the staff chart: find a patient, edit the demographics, add an allergy or a medication, the history, merge.

Each form checks what one person typed and hands it to one service; a refusal from the
service is put next to the field it is about (`show_refusal`).
"""

import re
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from patients.models import MedicalHistory, Patient
from patients.queries import mrn_spellings, phone_digits
from patients.services import Demographics, HistoryAnswers
from patients.validators import clean_date_of_birth, clean_phone

DATE_FORMATS = ["%Y-%m-%d", "%m/%d/%Y"]
ZIP_CODE = re.compile(r"\d{5}(-\d{4})?")
US_STATE = re.compile(r"[A-Za-z]{2}")
# The fewest digits of a phone number worth searching for (its last four, as people say them).
PHONE_SEARCH_DIGITS = 4
YES_NO = [("unknown", _("Not asked")), ("true", _("Yes")), ("false", _("No"))]


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _yes_no(label: Any) -> forms.NullBooleanField:
    return forms.NullBooleanField(label=label, required=False, widget=forms.Select(choices=YES_NO))


def show_refusal(form: forms.Form, error: ValidationError) -> None:
    """A service's refusal, next to the field it names (if the form has it), else at the top of the form."""
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            for text in errors:
                form.add_error(name if name in form.fields else None, text)
    else:
        for text in error.messages:
            form.add_error(None, text)


class ChartSearchForm(forms.Form):
    """Find a chart by any of name, date of birth, MRN and phone. Sent by POST: names never go in URLs."""

    name = forms.CharField(
        label=_("Name"), max_length=80, required=False, help_text=_("First name, last name or both.")
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=_date_input(),
        error_messages={"invalid": _("Please check the date of birth, for example 03/14/1958.")},
    )
    mrn = forms.CharField(
        label=_("Medical record number"), max_length=20, required=False, help_text=_("With or without “RC”.")
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
    )

    def clean_name(self) -> str:
        name = " ".join(str(self.cleaned_data["name"]).split())
        if name and len(name.replace(" ", "")) < 2:
            raise ValidationError(_("Type at least two letters of the name."))
        return name

    def clean_mrn(self) -> str:
        mrn = str(self.cleaned_data["mrn"]).strip()
        if mrn and not mrn_spellings(mrn):
            raise ValidationError(_("Please check the medical record number, for example RC000042."))
        return mrn

    def clean_phone(self) -> str:
        phone = str(self.cleaned_data["phone"]).strip()
        if phone and len(phone_digits(phone)) < PHONE_SEARCH_DIGITS:
            raise ValidationError(_("Type at least the last four digits of the phone number."))
        return phone

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if not self.errors and not any(cleaned.get(name) for name in ("name", "date_of_birth", "mrn", "phone")):
            raise ValidationError(_("Type a name, a date of birth, a medical record number or a phone number."))
        return cleaned

    def terms(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in ("name", "date_of_birth", "mrn", "phone")}


class DemographicsForm(forms.Form):
    """Who the patient is and how to reach them. The MRN is the practice's and is not typed."""

    first_name = forms.CharField(
        label=_("First name"), max_length=80, error_messages={"required": _("Please give the first name.")}
    )
    last_name = forms.CharField(
        label=_("Last name"), max_length=80, error_messages={"required": _("Please give the last name.")}
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        input_formats=DATE_FORMATS,
        widget=_date_input(),
        error_messages={
            "required": _("Please give the date of birth."),
            "invalid": _("Please check the date of birth, for example 03/14/1958."),
        },
    )
    sex = forms.ChoiceField(label=_("Sex"), choices=Patient.Sex.choices)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
    )
    email = forms.EmailField(
        label=_("Email"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        error_messages={"invalid": _("Please check the email address: it should look like name@example.com.")},
    )
    street = forms.CharField(label=_("Street address"), max_length=160, required=False)
    city = forms.CharField(label=_("City"), max_length=80, required=False)
    state = forms.CharField(label=_("State"), max_length=2, required=False, help_text=_("Two letters, e.g. CA."))
    postal_code = forms.CharField(label=_("ZIP code"), max_length=10, required=False)
    preferred_language = forms.ChoiceField(label=_("Preferred language"), choices=Patient.Language.choices)

    def clean_first_name(self) -> str:
        return self._required_text("first_name", _("Please give the first name."))

    def clean_last_name(self) -> str:
        return self._required_text("last_name", _("Please give the last name."))

    def _required_text(self, name: str, message: Any) -> str:
        value = " ".join(str(self.cleaned_data[name]).split())
        if not value:
            raise ValidationError(message)
        return value

    def clean_date_of_birth(self) -> date:
        born: date = self.cleaned_data["date_of_birth"]
        return clean_date_of_birth(born)

    def clean_phone(self) -> str:
        return clean_phone(str(self.cleaned_data["phone"]))

    def clean_state(self) -> str:
        state = str(self.cleaned_data["state"]).strip()
        if state and not US_STATE.fullmatch(state):
            raise ValidationError(_("Please give the state as two letters, e.g. CA."))
        return state.upper()

    def clean_postal_code(self) -> str:
        code = str(self.cleaned_data["postal_code"]).strip()
        if code and not ZIP_CODE.fullmatch(code):
            raise ValidationError(_("Please check the ZIP code: five digits, e.g. 90048."))
        return code

    @classmethod
    def initial_for(cls, patient: Patient) -> dict[str, Any]:
        return {name: getattr(patient, name) for name in cls.base_fields}

    def details(self) -> Demographics:
        return Demographics(**{name: self.cleaned_data[name] for name in self.base_fields})


class AllergyForm(forms.Form):
    substance = forms.CharField(
        label=_("Substance"),
        max_length=120,
        help_text=_("A medicine, a food, latex, an antiseptic…"),
        error_messages={"required": _("Please give the substance.")},
    )
    reaction = forms.CharField(label=_("Reaction (optional)"), max_length=200, required=False)

    def clean_substance(self) -> str:
        substance = str(self.cleaned_data["substance"]).strip()
        if not substance:
            raise ValidationError(_("Please give the substance."))
        return substance


class MedicationForm(forms.Form):
    """A medication as the patient takes it. Its drug class is computed from the name, never chosen."""

    name = forms.CharField(
        label=_("Medication"),
        max_length=120,
        help_text=_("The name on the box, generic or brand."),
        error_messages={"required": _("Please give the name of the medication.")},
    )
    dose = forms.CharField(
        label=_("Dose and how often (optional)"),
        max_length=120,
        required=False,
        help_text=_("e.g. 5 mg twice a day"),
    )

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        if not name:
            raise ValidationError(_("Please give the name of the medication."))
        return name


class MedicalHistoryForm(forms.Form):
    diabetes = _yes_no(_("Diabetes"))
    smoking = forms.ChoiceField(label=_("Smoking"), choices=MedicalHistory.Smoking.choices)
    cancer_history = _yes_no(_("History of cancer"))
    cancer_details = forms.CharField(label=_("Cancer: which and when"), max_length=200, required=False)
    bleeding_disorder = _yes_no(_("Bleeding disorder"))
    prior_surgery_at_site = forms.CharField(
        label=_("Earlier surgery at the treated site"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    notes = forms.CharField(
        label=_("Other relevant history"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if cleaned.get("cancer_details", "").strip() and cleaned.get("cancer_history") is not True:
            self.add_error(
                "cancer_details", _("Details are for a history of cancer: choose “Yes” above, or clear this box.")
            )
        return cleaned

    @classmethod
    def initial_for(cls, history: MedicalHistory | None) -> dict[str, Any]:
        if history is None:
            return {"smoking": MedicalHistory.Smoking.UNKNOWN}
        return {name: getattr(history, name) for name in cls.base_fields}

    def answers(self) -> HistoryAnswers:
        return HistoryAnswers(**{name: self.cleaned_data[name] for name in self.base_fields})


class MergeForm(forms.Form):
    """Which of two charts survives, and why they are one person."""

    survivor = forms.ChoiceField(
        label=_("Keep which chart?"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose the chart to keep."),
            "invalid_choice": _("Choose one of the two charts shown."),
        },
    )
    reason = forms.CharField(
        label=_("Why are these the same person?"),
        max_length=100,
        help_text=_("Recorded with the merge, e.g. “Booked again online with a new email”."),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Please say why these two charts are the same person.")},
    )

    def __init__(self, *args: Any, charts: tuple[Patient, Patient], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.charts = {str(chart.uuid): chart for chart in charts}
        survivor = self.fields["survivor"]
        assert isinstance(survivor, forms.ChoiceField)
        survivor.choices = [
            (key, _("Keep chart %(mrn)s (%(name)s)") % {"mrn": chart.mrn or "—", "name": chart})
            for key, chart in self.charts.items()
        ]

    def chosen(self) -> tuple[Patient, Patient]:
        """(survivor, duplicate)."""
        survivor = self.charts[self.cleaned_data["survivor"]]
        duplicate = next(chart for chart in self.charts.values() if chart is not survivor)
        return survivor, duplicate
