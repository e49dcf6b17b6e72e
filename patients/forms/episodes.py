"""The candidacy assessment form: the indication first, then only the details that decide it for that indication.

Sent by POST at every step, so nothing about the patient's condition ever goes in a URL.
A refusal from `patients.episodes.assessment_record` is put next to its field (`show_refusal`).
"""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from patients import candidacy
from patients.episodes import AssessmentDetails
from patients.models import BodySite, CandidacyAssessment, Indication, Side
from scheduling.models import Provider

# Where each indication usually is: the site the form starts with (the clinician may change it).
USUAL_SITE = {
    Indication.ROTATOR_CUFF: BodySite.SHOULDER,
    Indication.KNEE_LIGAMENT: BodySite.KNEE,
    Indication.PATELLAR_TENDONITIS: BodySite.KNEE,
    Indication.HAMSTRING: BodySite.HAMSTRING,
    Indication.BACK_PAIN: BodySite.LUMBAR_SPINE,
}
# The model's field names, as the form calls them.
FORM_FIELD = {"kellgren_lawrence_grade": "kl_grade", "failed_conservative_care": "failed_care"}


def _choices(options: Any, empty: Any) -> list[tuple[Any, Any]]:
    return [("", empty), *options]


class IndicationForm(forms.Form):
    """The first step: which of the nine conditions is assessed."""

    indication = forms.ChoiceField(label=_("Indication"), choices=Indication.choices, widget=forms.RadioSelect)


class AssessmentForm(forms.Form):
    """The assessment of one indication. Detail fields not for `indication` are left out of the form."""

    indication = forms.ChoiceField(label=_("Indication"), choices=Indication.choices)
    site = forms.ChoiceField(label=_("Body site"), choices=_choices(BodySite.choices, _("Choose the site")))
    side = forms.ChoiceField(label=_("Side"), choices=_choices(Side.choices, _("Choose the side")))
    kl_grade = forms.TypedChoiceField(
        label=_("Kellgren-Lawrence grade"),
        choices=_choices([(g, str(g)) for g in range(5)], _("Not graded yet")),
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("0 none, 1 doubtful, 2 mild, 3 moderate, 4 severe (from the X-ray)."),
    )
    tear_type = forms.ChoiceField(
        label=_("Tear"),
        choices=_choices(CandidacyAssessment.TearType.choices, _("Not known yet")),
        required=False,
    )
    sprain_grade = forms.TypedChoiceField(
        label=_("Sprain grade"),
        choices=_choices([(1, "I"), (2, "II"), (3, "III")], _("Not graded yet")),
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("I stretched, II partly torn, III torn through."),
    )
    failed_care = forms.MultipleChoiceField(
        label=_("Conservative care tried without lasting relief"),
        choices=candidacy.CONSERVATIVE_CARE,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    imaging = forms.CharField(
        label=_("Imaging reviewed"),
        max_length=300,
        required=False,
        help_text=_("e.g. X-ray of both knees standing, March 2031"),
    )
    decision = forms.ChoiceField(
        label=_("Decision"), choices=CandidacyAssessment.Decision.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("Reason for the decision"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    physician = forms.ModelChoiceField(
        label=_("Treating physician"),
        queryset=Provider.objects.none(),
        to_field_name="uuid",
        required=False,
        empty_label=_("Choose a physician"),
        help_text=_("Needed when the decision is “candidate”: the episode is theirs."),
    )
    # The suggestion codes the clinician was shown at the check step (saving recomputes them).
    checked = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, indication: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chosen_indication = indication
        physician_field = self.fields["physician"]
        assert isinstance(physician_field, forms.ModelChoiceField)
        physician_field.queryset = Provider.objects.filter(is_active=True, kind=Provider.Kind.PHYSICIAN).order_by(
            "name"
        )
        wanted = set(candidacy.DETAIL_FIELDS.get(indication, ()))
        for name in ("kl_grade", "tear_type", "sprain_grade"):
            if name not in wanted:
                del self.fields[name]
        # A radio group's label is its legend: the template draws these as fieldsets.
        self.fieldsets = ["failed_care", "decision"]

    def clean_indication(self) -> str:
        value: str = self.cleaned_data["indication"]
        if value != self.chosen_indication:
            raise ValidationError(_("Press “Change” to show the details of this indication first."))
        return value

    def details(self) -> AssessmentDetails:
        data = self.cleaned_data
        return AssessmentDetails(
            indication=data["indication"],
            site=data["site"],
            side=data["side"],
            decision=data["decision"],
            reason=data["reason"],
            kl_grade=data.get("kl_grade"),
            tear_type=data.get("tear_type") or "",
            sprain_grade=data.get("sprain_grade"),
            failed_care=tuple(data.get("failed_care") or ()),
            imaging=data.get("imaging") or "",
            physician=data.get("physician"),
        )

    def show_refusal(self, error: ValidationError) -> None:
        """A refusal from the service, next to the field it names (if the form has it), else at the top."""
        if hasattr(error, "error_dict"):
            for name, messages in error.message_dict.items():
                field = FORM_FIELD.get(name, name)
                for text in messages:
                    self.add_error(field if field in self.fields else None, text)
        else:
            for text in error.messages:
                self.add_error(None, text)
