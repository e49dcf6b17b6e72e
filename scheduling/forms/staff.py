"""Forms of the staff calendar: find a patient, book, move.

Times are typed as the office's wall-clock time and turned into an aware datetime
in the office's time zone, so 9:00 stays 9:00 across daylight-saving changes.
"""

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from accounts.access import Act, Record, can
from patients.models import Patient
from patients.services import PatientDetails
from patients.validators import clean_date_of_birth, clean_phone
from scheduling.models import AppointmentType, AreaOfConcern, Provider
from website.models import Office

NEW_PATIENT = "new"
DATE_FORMATS = ["%Y-%m-%d", "%m/%d/%Y"]
TIME_FORMATS = ["%H:%M", "%H:%M:%S"]


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _time_input() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time", "step": "300"}, format="%H:%M")


def local_start(day: date, at: time, office: Office) -> datetime | None:
    """`day` at wall-clock `at` in the office's zone, or None for a time the clocks skip (spring forward)."""
    zone = ZoneInfo(office.time_zone)
    moment = datetime.combine(day, at, tzinfo=zone)
    # A skipped time (2:30 on the spring-forward night) comes back from UTC as another wall-clock time.
    if moment.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None) != moment.replace(tzinfo=None):
        return None
    return moment


def patient_label(patient: Patient) -> str:
    born = formats.date_format(patient.date_of_birth, "SHORT_DATE_FORMAT")
    return _("%(name)s, born %(born)s") % {"name": f"{patient.first_name} {patient.last_name}", "born": born}


def may_override(user: Any) -> bool:
    return can(user, Act.OVERRIDE, Record.APPOINTMENT)


class PatientSearchForm(forms.Form):
    """Find a patient on file by part of the name and/or the date of birth. Sent by POST: names never go in URLs."""

    find_name = forms.CharField(label=_("Name"), max_length=80, required=False)
    find_date_of_birth = forms.DateField(
        label=_("Date of birth"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=_date_input(),
        error_messages={"invalid": _("Please check the date of birth, for example 03/14/1958.")},
    )

    def __init__(self, *args: Any, searching: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.searching = searching

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        name = (cleaned.get("find_name") or "").strip()
        cleaned["find_name"] = name
        if self.searching and not name and cleaned.get("find_date_of_birth") is None and not self.errors:
            raise forms.ValidationError(_("Type part of the name or the date of birth, then search."))
        if name and len(name) < 2:
            self.add_error("find_name", _("Type at least two letters of the name."))
        return cleaned

    @property
    def has_terms(self) -> bool:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return bool(data.get("find_name") or data.get("find_date_of_birth"))


class _WhenForm(forms.Form):
    """A date and a wall-clock time, with an optional override reason (physicians only)."""

    date = forms.DateField(
        label=_("Date"),
        input_formats=DATE_FORMATS,
        widget=_date_input(),
        error_messages={"required": _("Please choose a date."), "invalid": _("Please check the date.")},
    )
    time = forms.TimeField(
        label=_("Time"),
        input_formats=TIME_FORMATS,
        widget=_time_input(),
        error_messages={"required": _("Please choose a time."), "invalid": _("Please give a time such as 09:30.")},
    )
    override_reason = forms.CharField(
        label=_("Reason to book over another appointment"),
        help_text=_("Physicians only. Recorded with the appointment."),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The field stays for everyone so that a reason sent by someone else is refused
        # by the service (and said so), not silently dropped; only those who may override see it.
        self.show_override = may_override(user)

    def starts_at(self, office: Office) -> datetime | None:
        """The aware start, once valid; adds an error on `time` for a time the clocks skip."""
        day, at = self.cleaned_data.get("date"), self.cleaned_data.get("time")
        if day is None or at is None:
            return None
        moment = local_start(day, at.replace(second=0, microsecond=0), office)
        if moment is None:
            self.add_error("time", _("The clocks skip this time on that night. Please choose another time."))
        return moment


class AppointmentCreateForm(_WhenForm):
    """Who, what, where, with whom and when.

    `candidates` are the patients the page may offer: those the search found and the one
    chosen before (the view reaches each through the access helper); a patient id sent
    that is not among them is refused as an unknown choice.
    """

    patient = forms.ChoiceField(
        label=_("Patient"),
        widget=forms.RadioSelect,
        required=False,
    )
    first_name = forms.CharField(label=_("First name"), max_length=80, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=80, required=False)
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=_date_input(),
        error_messages={"invalid": _("Please check the date of birth, for example 03/14/1958.")},
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
    )
    email = forms.EmailField(
        label=_("Email (optional)"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        error_messages={"invalid": _("Please check the email address: it should look like name@example.com.")},
    )
    language = forms.ChoiceField(label=_("Preferred language"), choices=Patient.Language.choices, required=False)
    appointment_type = forms.ModelChoiceField(
        label=_("Type of visit"),
        queryset=AppointmentType.objects.filter(is_active=True),
        to_field_name="slug",
        empty_label=None,
    )
    office = forms.ModelChoiceField(
        label=_("Office"), queryset=Office.objects.filter(is_active=True), to_field_name="slug", empty_label=None
    )
    provider = forms.ModelChoiceField(
        label=_("Provider"),
        queryset=Provider.objects.filter(is_active=True),
        to_field_name="uuid",
        empty_label=None,
    )
    area_of_concern = forms.ChoiceField(
        label=_("Area of concern (optional)"),
        choices=[("", "—"), *AreaOfConcern.choices],
        required=False,
    )

    field_order = [
        "patient",
        "first_name",
        "last_name",
        "date_of_birth",
        "phone",
        "email",
        "language",
        "appointment_type",
        "office",
        "provider",
        "date",
        "time",
        "area_of_concern",
        "override_reason",
    ]

    def __init__(self, *args: Any, candidates: list[Patient] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.patients = {str(p.uuid): p for p in candidates or []}
        patient_field = self.fields["patient"]
        assert isinstance(patient_field, forms.ChoiceField)
        patient_field.choices = [(key, patient_label(p)) for key, p in self.patients.items()] + [
            (NEW_PATIENT, _("A new patient (type their details below)"))
        ]

    def clean_phone(self) -> str:
        return clean_phone(str(self.cleaned_data["phone"]))

    def clean_date_of_birth(self) -> date | None:
        born: date | None = self.cleaned_data["date_of_birth"]
        return None if born is None else clean_date_of_birth(born)

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        choice = cleaned.get("patient") or ""
        if not choice:
            self.add_error("patient", _("Choose a patient found above, or a new patient."))
        elif choice == NEW_PATIENT:
            required = {
                "first_name": _("Please give the first name."),
                "last_name": _("Please give the last name."),
                "date_of_birth": _("Please give the date of birth."),
                "phone": _("Please give a phone number."),
            }
            for name, message in required.items():
                if not cleaned.get(name) and name not in self.errors:
                    self.add_error(name, message)
        return cleaned

    def chosen_patient(self) -> Patient | PatientDetails:
        data = self.cleaned_data
        if data["patient"] == NEW_PATIENT:
            return PatientDetails(
                first_name=data["first_name"],
                last_name=data["last_name"],
                date_of_birth=data["date_of_birth"],
                phone=data["phone"],
                email=data["email"],
                language=data.get("language") or Patient.Language.ENGLISH,
            )
        return self.patients[data["patient"]]


class AppointmentMoveForm(_WhenForm):
    """A new start and/or another provider, at the same office."""

    provider = forms.ModelChoiceField(
        label=_("Provider"),
        queryset=Provider.objects.filter(is_active=True),
        to_field_name="uuid",
        empty_label=None,
    )

    field_order = ["date", "time", "provider", "override_reason"]
