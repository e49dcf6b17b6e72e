"""Forms of the public booking pages."""

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scheduling.booking import Identity
from scheduling.models import AreaOfConcern, CallbackRequest
from website.models import Office

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

OLDEST_AGE_YEARS = 120


def _clean_phone(value: str) -> str:
    phone = value.strip()
    digits = [ch for ch in phone if ch.isdigit()]
    if not 7 <= len(digits) <= 15:
        raise forms.ValidationError(_("Please check the phone number, for example 818-555-0199."))
    return phone


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
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
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

    def clean_first_name(self) -> str:
        return str(self.cleaned_data["first_name"]).strip()

    def clean_last_name(self) -> str:
        return str(self.cleaned_data["last_name"]).strip()

    def clean_phone(self) -> str:
        return _clean_phone(str(self.cleaned_data["phone"]))

    def clean_email(self) -> str:
        return str(self.cleaned_data["email"]).strip()

    def clean_date_of_birth(self) -> date:
        born: date = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if born > today:
            raise forms.ValidationError(_("The date of birth cannot be in the future."))
        if born.year < today.year - OLDEST_AGE_YEARS:
            raise forms.ValidationError(_("Please check the year of birth."))
        return born

    def identity(self) -> Identity:
        data = self.cleaned_data
        return Identity(
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            phone=data["phone"],
            date_of_birth=data["date_of_birth"],
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
        office_field = self.fields["office"]
        assert isinstance(office_field, forms.ModelChoiceField)
        office_field.queryset = Office.objects.filter(is_active=True)
        office_field.empty_label = None
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    def clean_phone(self) -> str:
        return _clean_phone(str(self.cleaned_data["phone"]))

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if cleaned.get("website"):
            raise forms.ValidationError(
                _("This request could not be sent. If you are a person, please call the office."), code="honeypot"
            )
        return cleaned
