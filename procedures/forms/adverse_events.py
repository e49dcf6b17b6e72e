"""Reporting an adverse event, and a physician's judgement of it."""

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from procedures.models import AdverseEvent, ProcedureRecord

# CTCAE v5's general meaning of each grade, so the reporter grades without a manual at hand.
GRADES = [
    (1, _("1: Mild (no treatment, or observation only)")),
    (2, _("2: Moderate (minimal, local or non-invasive treatment)")),
    (3, _("3: Severe (hospital stay, or disabling)")),
    (4, _("4: Life-threatening (urgent treatment needed)")),
    (5, _("5: Death")),
]
YES_NO = [("yes", _("Yes")), ("no", _("No"))]


def _yes(value: str) -> bool:
    return value == "yes"


class AdverseEventForm(forms.Form):
    kind = forms.ChoiceField(label=_("Event"), choices=[("", _("Choose…")), *AdverseEvent.Kind.choices])
    kind_other = forms.CharField(label=_("If other: what happened"), required=False, max_length=160)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )
    onset_date = forms.DateField(label=_("Onset date"), widget=forms.DateInput(attrs={"type": "date"}))
    grade = forms.TypedChoiceField(
        label=_("Severity (CTCAE grade)"), choices=GRADES, coerce=int, widget=forms.RadioSelect
    )
    serious = forms.TypedChoiceField(
        label=_("Serious (death, life-threatening, hospital stay, lasting disability)"),
        choices=YES_NO,
        coerce=_yes,
        widget=forms.RadioSelect,
    )
    action = forms.CharField(
        label=_("Action taken"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=4000
    )
    outcome = forms.ChoiceField(label=_("Outcome"), choices=AdverseEvent.Outcome.choices, initial="unknown")
    procedure = forms.ChoiceField(label=_("Procedure it followed"), required=False)

    def __init__(self, *args: Any, procedures: list[ProcedureRecord], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.procedures = {str(p.uuid): p for p in procedures}
        cast(forms.ChoiceField, self.fields["procedure"]).choices = [("", _("None, or not known"))] + [
            (str(p.uuid), _("Procedure of %(date)s") % {"date": p.procedure_date.isoformat()}) for p in procedures
        ]
        if procedures and "procedure" not in self.initial:
            self.initial["procedure"] = str(procedures[0].uuid)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("kind") == AdverseEvent.Kind.OTHER and not (data.get("kind_other") or "").strip():
            self.add_error("kind_other", _("Say what the event was."))
        return data

    def report_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["procedure"] = self.procedures.get(data.get("procedure") or "")
        return data


class AdjudicationForm(forms.Form):
    related_to_harvest = forms.ChoiceField(label=_("Related to the harvest"), choices=AdverseEvent.Relatedness.choices)
    related_to_injection = forms.ChoiceField(
        label=_("Related to the injection"), choices=AdverseEvent.Relatedness.choices
    )
    related_to_product = forms.ChoiceField(label=_("Related to the product"), choices=AdverseEvent.Relatedness.choices)
    action = forms.CharField(
        label=_("Action taken"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=4000
    )
    outcome = forms.ChoiceField(label=_("Outcome"), choices=AdverseEvent.Outcome.choices)

    @classmethod
    def initial_for(cls, event: AdverseEvent) -> dict[str, Any]:
        return {name: getattr(event, name) for name in cls.base_fields}
