"""The procedure record's forms: one per section, the start, the sign-off and the amendment's reason.

Each section form reads what a person types and hands the service the record's own
fields (`section_data()`); `initial_for(record)` fills it from what the record holds (for the
amendment page, and to show a saved section again). Times are read in the current time
zone, which the views set to the office's.
"""

from decimal import Decimal
from typing import Any, ClassVar, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from patients.models import BodySite, Side
from procedures import guardrails
from procedures.models import Activation, Anticoagulant, Injection, ProcedureRecord

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
SPIN_ROWS = 3

IDENTIFIERS = [
    ("full_name", _("Full name")),
    ("date_of_birth", _("Date of birth")),
    ("mrn", _("Medical record number")),
    ("photo_id", _("Photo ID")),
    ("wristband", _("Wristband")),
]
AGENTS = [
    ("acd_a", _("ACD-A")),
    ("heparin", _("Heparin")),
    ("sodium_citrate", _("Sodium citrate")),
    ("calcium_chloride", _("Calcium chloride")),
    ("calcium_gluconate", _("Calcium gluconate")),
    ("saline", _("Saline")),
    ("thrombin", _("Thrombin")),
    ("hyaluronic_acid", _("Hyaluronic acid")),
    ("corticosteroid", _("Corticosteroid")),
    ("antibiotic", _("Antibiotic")),
    ("growth_factor", _("Growth factor")),
]
CARRIERS = [
    ("none", _("None")),
    ("saline", _("Saline")),
    ("autologous_ppp", _("The patient's own platelet-poor plasma")),
    ("autologous_prp", _("The patient's own PRP")),
    ("hyaluronic_acid", _("Hyaluronic acid")),
]
INJECTION_ACTIVATION = [
    ("none", _("None")),
    ("calcium_chloride", _("Calcium chloride")),
    ("calcium_gluconate", _("Calcium gluconate")),
    ("thrombin", _("Thrombin")),
]
HARVEST_SIDES = [
    (Side.LEFT.value, Side.LEFT.label),
    (Side.RIGHT.value, Side.RIGHT.label),
    (Side.BILATERAL.value, Side.BILATERAL.label),
]


def _blank(choices: Any) -> list[tuple[str, Any]]:
    return [("", _("Choose…")), *list(choices)]


def volume(label: Any, *, required: bool = False, help_text: Any = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=Decimal(0),
        max_digits=7,
        decimal_places=2,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )


def count(label: Any, *, max_value: Decimal | None = None) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=Decimal(0),
        max_value=max_value,
        max_digits=10,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )


def moment(label: Any, *, required: bool = True) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=[DATETIME_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "data-now": "1"}, format=DATETIME_FORMAT),
    )


def text(label: Any, *, required: bool = False, max_length: int = 120, help_text: Any = "") -> forms.CharField:
    return forms.CharField(label=label, required=required, max_length=max_length, help_text=help_text)


class SectionForm(forms.Form):
    """A section of the record: its fields are the record's (unless `section_data` says otherwise)."""

    section: ClassVar[str]
    title: ClassVar[Any]

    def __init__(self, *args: Any, record: ProcedureRecord, **kwargs: Any) -> None:
        self.record = record
        super().__init__(*args, **kwargs)

    @classmethod
    def initial_for(cls, record: ProcedureRecord) -> dict[str, Any]:
        initial = {}
        for name in cls.base_fields:
            if hasattr(record, name):
                value = getattr(record, name)
                if value is not None and value != "":
                    initial[name] = timezone.localtime(value) if hasattr(value, "tzinfo") and value.tzinfo else value
        return initial

    def section_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class TimeoutForm(SectionForm):
    section = "timeout"
    title = _("Time-out")

    timeout_identifiers = forms.MultipleChoiceField(
        label=_("Identifiers checked with the patient"),
        choices=IDENTIFIERS,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("At least two."),
    )
    timeout_site_side_confirmed = forms.BooleanField(label=_("Site and side confirmed"))
    timeout_consent_confirmed = forms.BooleanField(label=_("Consent confirmed"))
    timeout_allergies_reviewed = forms.BooleanField(label=_("Allergies reviewed"))
    timeout_anticoagulants_reviewed = forms.BooleanField(
        label=_("Anticoagulants, antiplatelets and anti-inflammatories reviewed")
    )

    def __init__(self, *args: Any, record: ProcedureRecord, **kwargs: Any) -> None:
        super().__init__(*args, record=record, **kwargs)
        episode = record.episode
        self.fields["timeout_site_side_confirmed"].label = _("Site and side confirmed: %(site)s") % {
            "site": f"{episode.get_side_display()} {episode.get_site_display().lower()}"
        }
        for name in self.CONFIRMATIONS:
            self.fields[name].error_messages["required"] = _("Confirm this before the time-out is done.")

    CONFIRMATIONS = (
        "timeout_site_side_confirmed",
        "timeout_consent_confirmed",
        "timeout_allergies_reviewed",
        "timeout_anticoagulants_reviewed",
    )

    def clean_timeout_identifiers(self) -> list[str]:
        chosen: list[str] = self.cleaned_data["timeout_identifiers"]
        if len(set(chosen)) < guardrails.TWO_IDENTIFIERS:
            raise forms.ValidationError(_("Check at least two identifiers."))
        return chosen


class BloodDrawForm(SectionForm):
    section = "blood_draw"
    title = _("Blood draw for PRP")

    blood_volume_ml = volume(_("Blood drawn (mL)"), required=True)
    blood_anticoagulant = forms.ChoiceField(label=_("Anticoagulant"), choices=_blank(Anticoagulant.choices))
    blood_anticoagulant_ml = volume(_("Anticoagulant (mL)"))
    blood_drawn_at = moment(_("Drawn at"))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if (
            data.get("blood_anticoagulant") not in (None, "", Anticoagulant.NONE)
            and data.get("blood_anticoagulant_ml") is None
        ):
            self.add_error("blood_anticoagulant_ml", _("Give the volume of anticoagulant."))
        return data


class HarvestForm(SectionForm):
    section = "harvest"
    title = _("Bone-marrow harvest")

    harvest_site = forms.ChoiceField(
        label=_("Site"),
        choices=ProcedureRecord.HarvestSite.choices,
        initial=ProcedureRecord.HarvestSite.POSTERIOR_ILIAC_CREST,
    )
    harvest_side = forms.ChoiceField(label=_("Side"), choices=_blank(HARVEST_SIDES))
    anaesthetic = text(_("Local anaesthetic"), help_text=_("e.g. lidocaine 1%"))
    anaesthetic_ml = volume(_("Anaesthetic (mL)"))
    needle = forms.ChoiceField(
        label=_("Needle or trocar"), choices=_blank(ProcedureRecord.Needle.choices), required=False
    )
    needle_gauge = text(_("Gauge"), max_length=20, help_text=_("e.g. 11 G"))
    punctures = forms.IntegerField(label=_("Number of punctures"), min_value=1, max_value=50, required=False)
    ml_per_draw = volume(_("mL per draw"))
    aspirate_volume_ml = volume(_("Total aspirate (mL)"), required=True)
    harvest_anticoagulant = forms.ChoiceField(
        label=_("Anticoagulant in the syringe"), choices=_blank(Anticoagulant.choices)
    )
    harvest_started_at = moment(_("Started at"))
    harvest_ended_at = moment(_("Needle removed at"))
    harvest_sample_label = text(_("Sample label"), required=True, max_length=60, help_text=_("Scan or type it."))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("harvest_started_at"), data.get("harvest_ended_at")
        if start and end and end < start:
            self.add_error("harvest_ended_at", _("The harvest cannot end before it starts."))
        return data


class ProcessingForm(SectionForm):
    section = "processing"
    title = _("Processing")

    device = text(_("Centrifuge or system"), required=True)
    kit = text(_("Kit"))
    kit_lot = text(_("Kit lot"), max_length=60)
    processing_input_ml = volume(_("Input (mL)"))
    concentrate_volume_ml = volume(_("Concentrate made (mL)"))
    prp_volume_ml = volume(_("PRP made (mL)"))
    activation = forms.ChoiceField(label=_("Activation"), choices=_blank(Activation.choices))
    activation_detail = text(_("Activation detail"), help_text=_("e.g. 10% calcium chloride, 1:10"))
    cultured_or_expanded = forms.BooleanField(
        label=_("The cells were cultured or expanded"),
        required=False,
        help_text=_("Leave unchecked for a same-day product."),
    )
    added_agents = forms.MultipleChoiceField(
        label=_("Agents added to the product"),
        choices=AGENTS,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    other_agents = text(
        _("Any other agent added"), max_length=200, help_text=_("As written on the vial; separate several with commas.")
    )
    processing_done_at = moment(_("Processing done at"), required=False)

    def __init__(self, *args: Any, record: ProcedureRecord, **kwargs: Any) -> None:
        super().__init__(*args, record=record, **kwargs)
        for n in range(1, SPIN_ROWS + 1):
            self.fields[f"spin{n}_g"] = forms.IntegerField(
                label=_("Spin %(n)d: force (g)") % {"n": n}, min_value=1, max_value=10000, required=n == 1
            )
            self.fields[f"spin{n}_minutes"] = forms.IntegerField(
                label=_("Spin %(n)d: minutes") % {"n": n}, min_value=1, max_value=240, required=n == 1
            )

    @classmethod
    def initial_for(cls, record: ProcedureRecord) -> dict[str, Any]:
        initial = super().initial_for(record)
        known = {code for code, _label in AGENTS}
        agents = [str(agent) for agent in record.added_agents] if isinstance(record.added_agents, list) else []
        initial["added_agents"] = [agent for agent in agents if agent in known]
        initial["other_agents"] = ", ".join(agent for agent in agents if agent not in known)
        for n, spin in enumerate(record.spins if isinstance(record.spins, list) else [], 1):
            if n <= SPIN_ROWS and isinstance(spin, dict):
                initial[f"spin{n}_g"] = spin.get("g")
                initial[f"spin{n}_minutes"] = spin.get("minutes")
        return initial

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for n in range(2, SPIN_ROWS + 1):
            g, minutes = data.get(f"spin{n}_g"), data.get(f"spin{n}_minutes")
            if (g is None) != (minutes is None) and f"spin{n}_g" not in self.errors:
                missing = f"spin{n}_minutes" if minutes is None else f"spin{n}_g"
                self.add_error(missing, _("Give both the force and the minutes of this spin."))
        return data

    def section_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        spins = []
        for n in range(1, SPIN_ROWS + 1):
            g, minutes = data.pop(f"spin{n}_g", None), data.pop(f"spin{n}_minutes", None)
            if g is not None and minutes is not None:
                spins.append({"g": g, "minutes": minutes})
        others = [part.strip() for part in data.pop("other_agents", "").split(",") if part.strip()]
        data["added_agents"] = [*data.get("added_agents", []), *others]
        data["spins"] = spins
        return data


class CountsForm(SectionForm):
    section = "counts"
    title = _("Counts")

    baseline_platelets = count(_("Whole-blood platelets (×10³/µL)"))  # noqa: RUF001
    baseline_wbc = count(_("Whole-blood white cells (×10³/µL)"))  # noqa: RUF001
    baseline_neutrophils = count(_("Whole-blood neutrophils (×10³/µL)"))  # noqa: RUF001
    baseline_rbc = count(_("Whole-blood red cells (×10⁶/µL)"))  # noqa: RUF001
    prp_platelets = count(_("PRP platelets (×10³/µL)"))  # noqa: RUF001
    prp_wbc = count(_("PRP white cells (×10³/µL)"))  # noqa: RUF001
    prp_neutrophils = count(_("PRP neutrophils (×10³/µL)"))  # noqa: RUF001
    prp_rbc = count(_("PRP red cells (×10⁶/µL)"))  # noqa: RUF001
    aspirate_tnc = count(_("Aspirate nucleated cells (×10⁶/mL)"))  # noqa: RUF001
    concentrate_tnc = count(_("Concentrate nucleated cells (×10⁶/mL)"))  # noqa: RUF001
    cfu_f = count(_("CFU-F (per mL)"))
    viability_pct = count(_("Viability (%)"), max_value=Decimal(100))

    groups = (
        (_("Whole blood (baseline)"), ("baseline_platelets", "baseline_wbc", "baseline_neutrophils", "baseline_rbc")),
        (_("PRP"), ("prp_platelets", "prp_wbc", "prp_neutrophils", "prp_rbc")),
        (_("Bone-marrow concentrate"), ("aspirate_tnc", "concentrate_tnc", "cfu_f", "viability_pct")),
    )

    def grouped(self) -> list[tuple[Any, list[forms.BoundField]]]:
        return [(title, [self[name] for name in names]) for title, names in self.groups]


class InjectionForm(SectionForm):
    section = "injections"
    title = _("Injection")

    target_structure = text(
        _("Target structure"),
        required=True,
        max_length=160,
        help_text=_("e.g. medial compartment, supraspinatus tendon"),
    )
    site = forms.ChoiceField(label=_("Site"), choices=BodySite.choices)
    side = forms.ChoiceField(label=_("Side"), choices=Side.choices)
    guidance = forms.ChoiceField(label=_("Image guidance"), choices=_blank(Injection.Guidance.choices))
    concentrate_ml = volume(_("Concentrate (mL)"))
    prp_ml = volume(_("PRP (mL)"))
    carrier = forms.ChoiceField(label=_("Carrier"), choices=CARRIERS, initial="none")
    activation_agent = forms.ChoiceField(label=_("Activation agent"), choices=INJECTION_ACTIVATION, initial="none")
    sample_label = text(_("Sample label"), required=True, max_length=60, help_text=_("Scan or type it at the bedside."))
    injected_at = moment(_("Injected at"))

    def __init__(self, *args: Any, record: ProcedureRecord, **kwargs: Any) -> None:
        super().__init__(*args, record=record, **kwargs)
        if not self.is_bound and "initial" not in kwargs:
            self.initial = {"site": record.episode.site, "side": record.episode.side}

    @classmethod
    def initial_for_injection(cls, injection: Injection) -> dict[str, Any]:
        initial = {name: getattr(injection, name) for name in cls.base_fields}
        initial["injected_at"] = timezone.localtime(injection.injected_at)
        return initial

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not (data.get("concentrate_ml") or data.get("prp_ml")) and "prp_ml" not in self.errors:
            self.add_error("prp_ml", _("Give the volume of concentrate, of PRP, or both."))
        return data

    def section_data(self) -> dict[str, Any]:
        return {"action": "add", **self.cleaned_data}


class RehabForm(SectionForm):
    section = "rehab"
    title = _("Rehabilitation")

    rehabilitation_protocol = forms.CharField(
        label=_("Rehabilitation protocol given to the patient"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
    )


SECTION_FORMS: dict[str, type[SectionForm]] = {
    form.section: form for form in (TimeoutForm, BloodDrawForm, HarvestForm, ProcessingForm, CountsForm, RehabForm)
}
# The order the record page shows them in (injections between counts and rehabilitation).
ORDER = ("timeout", "blood_draw", "harvest", "processing", "counts", "injections", "rehab")


class StartForm(forms.Form):
    appointment = forms.ChoiceField(label=_("Today's visit"), required=False)
    consent_override_reason = forms.CharField(
        label=_("Reason to start without a valid consent (physicians only)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )

    def __init__(self, *args: Any, appointments: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.appointments = {str(a.uuid): a for a in appointments}
        cast(forms.ChoiceField, self.fields["appointment"]).choices = [("", _("No appointment"))] + [
            (str(a.uuid), f"{timezone.localtime(a.starts_at):%H:%M} {a.appointment_type.name}, {a.office.name}")
            for a in appointments
        ]
        if appointments:
            self.initial.setdefault("appointment", str(appointments[0].uuid))

    def chosen_appointment(self) -> Any:
        return self.appointments.get(self.cleaned_data.get("appointment") or "")


DEFAULT_MEANING = _("I performed this procedure, and this record of it is accurate and complete.")


class SignForm(forms.Form):
    meaning = forms.CharField(
        label=pgettext_lazy("the physician's sign-off", "What your signature means"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    baseline_override_reason = forms.CharField(
        label=_("Reason to sign without a baseline"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )

    def __init__(self, *args: Any, baseline_missing: str | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("meaning", DEFAULT_MEANING)
        if baseline_missing is None:
            del self.fields["baseline_override_reason"]


class AmendReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the amendment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
