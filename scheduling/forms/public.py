"""Forms of the public booking pages."""

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from patients.services import PatientDetails
from patients.validators import clean_date_of_birth, clean_phone
from scheduling.models import AreaOfConcern, CallbackRequest
from website.forms import offices_to_choose

# The conditions as the therapy pages name them, then "other" (stored as AreaOfConcern values).
AREA_CHOICES = [
    (AreaOfConcern.OSTEOARTHRITIS, _("Mild to moderate osteoarthritis")),
    (AreaOfConcern.TENDON_INJURY, _("Tendon injuries")),
    (AreaOfConcern.ROTATOR_CUFF, _("Partial rotator cuff tears")),
    (AreaOfConcern.BACK_PAIN, _("Back pain from worn discs and facet joints")),
    (AreaOfConcern.KNEE_LIGAMENT, _("MCL, ACL, PCL or LCL sprains or tears")),
    (AreaOfConcern.PATELLAR_TENDONITIS, _("Patellar tendonitis")),
    (AreaOfConcern.HAMSTRING, _("Hamstring tendinopathy")),
    (AreaOfConcern.HAND_KNEE_FOOT_PAIN, _("Pain in the hands, knees or feet")),
    (AreaOfConcern.CARTILAGE, _("Cartilage damage")),
    (AreaOfConcern.OTHER, _("Something else")),
]


class BookingForm(forms.Form):
    """Who is coming and why. The chosen time travels beside it as a signed value (see the view)."""

    first_name = forms.CharField(
        label=_("First name"),
        max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
        error_messages={"required": _("Please tell us your first name.")},
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
        error_messages={"required": _("Please tell us your last name.")},
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "type": "tel"}),
        error_messages={"required": _("Please give a phone number, in case we need to reach you.")},
    )
    email = forms.EmailField(
        label=_("Email"),
        help_text=_("We send the confirmation and the links to cancel or change the time here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": _("Please give an email address for the confirmation."),
            "invalid": _("Please check the email address: it should look like name@example.com."),
        },
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        input_formats=["%Y-%m-%d", "%m/%d/%Y"],
        # Typed as month/day/year, as US forms ask: a date picker shows the browser's own order, which
        # on a Spanish-language browser is day/month/year and would contradict the label.
        widget=forms.DateInput(attrs={"autocomplete": "bday", "inputmode": "numeric"}, format="%m/%d/%Y"),
        error_messages={
            "required": _("Please give your date of birth."),
            "invalid": _("Please check the date of birth, for example 03/14/1958."),
        },
    )
    area_of_concern = forms.ChoiceField(
        label=_("What would you like to talk about?"),
        choices=AREA_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose one.")},
    )

    def clean_phone(self) -> str:
        return clean_phone(str(self.cleaned_data["phone"]))

    def clean_date_of_birth(self) -> date:
        return clean_date_of_birth(self.cleaned_data["date_of_birth"])

    def details(self) -> PatientDetails:
        """Who is booking, as typed; a new chart takes the language of the page they booked from."""
        data = self.cleaned_data
        return PatientDetails(
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            phone=data["phone"],
            date_of_birth=data["date_of_birth"],
            language=get_language() or "en",
        )


class CallbackForm(forms.ModelForm[CallbackRequest]):
    """Ask to be called back when no time suits. Contact details and times only: nothing about health."""

    # A field people never see; bots fill every field they find.
    website = forms.CharField(required=False, label=_("Leave this field empty"))

    class Meta:
        model = CallbackRequest
        fields = ["office", "name", "phone", "email", "preferred_times"]
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "type": "tel"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "preferred_times": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {
            "office": _("Office"),
            "name": _("Name"),
            "phone": _("Phone"),
            "email": _("Email (optional)"),
            "preferred_times": _("When is a good time to call? (optional)"),
        }
        help_texts = {"preferred_times": _("For example: weekday mornings, or Tuesday after 3 p.m.")}
        error_messages = {
            "name": {"required": _("Please tell us your name.")},
            "phone": {"required": _("Please give a phone number so we can call you.")},
            "email": {"invalid": _("Please check the email address: it should look like name@example.com.")},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        offices_to_choose(self.fields["office"], empty_label=None)
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    def clean_phone(self) -> str:
        return clean_phone(str(self.cleaned_data["phone"]))

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if cleaned.get("website"):
            raise forms.ValidationError(
                _("This request could not be sent. If you are a person, please call the office."), code="honeypot"
            )
        return cleaned
