"""Forms of the public website."""

import time
from typing import Any

from django import forms
from django.conf import settings
from django.core import signing
from django.utils.translation import gettext_lazy as _

from lib.guard import assess
from website import selfcheck
from website.models import Inquiry, Office

_STARTED_SALT = "website.contact.started"


def contact_started_token() -> str:
    """A signed timestamp put in the form when it is shown, to spot instant bot posts."""
    return signing.dumps(time.time(), salt=_STARTED_SALT)


def offices_to_choose(field: forms.Field, *, empty_label: Any) -> None:
    """An office field of a public form: the active offices, each named as the reader's language writes it."""
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = Office.objects.filter(is_active=True)
    field.empty_label = empty_label
    field.label_from_instance = lambda office: office.local_name  # type: ignore[method-assign,assignment]


class ContactForm(forms.ModelForm[Inquiry]):
    """Get In Touch: non-medical questions only.

    A message that reports an urgent warning sign (fever after a procedure, chest pain...)
    is not taken as routine: the page tells the person to call the office now or 911, and
    sends the message only if they tick `confirm_urgent`; then `urgent` is True after
    `is_valid()`, for the view to store the inquiry as urgent.
    """

    # A field people never see; bots fill every field they find.
    website = forms.CharField(required=False, label=_("Leave this field empty"))
    started = forms.CharField(widget=forms.HiddenInput)
    confirm_non_medical = forms.BooleanField(
        required=False,
        label=_("My message is not about my health. Send it anyway."),
    )
    confirm_urgent = forms.BooleanField(
        required=False,
        label=_("I have read the notice above. Send my message to the office anyway."),
    )

    class Meta:
        model = Inquiry
        fields = ["name", "email", "phone", "preferred_office", "message"]
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "message": forms.Textarea(attrs={"rows": 6}),
        }
        labels = {
            "name": _("Name"),
            "email": _("Email"),
            "phone": _("Phone"),
            "preferred_office": _("Preferred office"),
            "message": _("Message"),
        }
        error_messages = {
            "name": {"required": _("Please tell us your name.")},
            "email": {
                "required": _("Please give an email address so we can answer you."),
                "invalid": _("Please check the email address: it should look like name@example.com."),
            },
            "message": {"required": _("Please write your question.")},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        offices_to_choose(self.fields["preferred_office"], empty_label=_("No preference"))
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})
        self.medical_notice = False
        self.urgent_notice = False
        self.urgent = False

    @property
    def started_token(self) -> str:
        """The token to render: the original one while valid, so waiting counts from the first view."""
        token = str(self.data.get("started", "")) if self.is_bound else ""
        try:
            signing.loads(token, salt=_STARTED_SALT, max_age=60 * 60 * 24)
        except signing.BadSignature:
            return contact_started_token()
        return token

    def clean_phone(self) -> str:
        phone: str = self.cleaned_data.get("phone", "").strip()
        digits = [ch for ch in phone if ch.isdigit()]
        if phone and not 7 <= len(digits) <= 15:
            raise forms.ValidationError(_("Please check the phone number, or leave it empty."))
        return phone

    def clean_message(self) -> str:
        message: str = self.cleaned_data.get("message", "").strip()
        if not message:
            raise forms.ValidationError(_("Please write your question."))
        return message

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if cleaned.get("website"):
            raise forms.ValidationError(
                _("This message could not be sent. If you are a person, please call one of our offices."),
                code="honeypot",
            )
        try:
            started = float(signing.loads(cleaned.get("started", ""), salt=_STARTED_SALT, max_age=60 * 60 * 24))
        except (signing.BadSignature, TypeError, ValueError):
            # An expired or altered form: `started_token` gives the page a fresh one.
            raise forms.ValidationError(
                _("This form had expired. Please check your message and send it again."), code="expired"
            ) from None
        if time.time() - started < settings.CONTACT_MIN_FILL_SECONDS:
            raise forms.ValidationError(
                _("That was sent very quickly. Please wait a moment, check your message and send it again."),
                code="too_fast",
            )
        message = cleaned.get("message", "")
        assessment = assess(message)
        if assessment.urgent:
            if not cleaned.get("confirm_urgent"):
                self.urgent_notice = True
                raise forms.ValidationError(
                    _(
                        "Your message was not sent: it mentions a sign that may need care now. "
                        "Please read the notice at the top of this page. "
                        "To send the message anyway, tick the box below and send it again."
                    ),
                    code="urgent",
                )
            self.urgent = True
        elif assessment.medical and not cleaned.get("confirm_non_medical"):
            self.medical_notice = True
            raise forms.ValidationError(
                _(
                    "Your message seems to include medical details. Please include non-medical "
                    "questions and correspondence only. For questions about your health, please "
                    "book a consultation. If your message is not medical, tick the box below and send it again."
                ),
                code="medical",
            )
        return cleaned


class SelfCheckForm(forms.Form):
    """The anonymous candidacy self-check. Nothing from it is stored."""

    area = forms.ChoiceField(
        label=_("Where is the pain or injury?"),
        widget=forms.RadioSelect,
        choices=[
            ("knee", _("Knee")),
            ("hip", _("Hip")),
            ("shoulder", _("Shoulder")),
            ("back", _("Back")),
            ("hand", _("Hand or wrist")),
            ("foot_ankle", _("Foot or ankle")),
            ("elbow", _("Elbow")),
            ("other", _("Somewhere else")),
        ],
        error_messages={"required": _("Please choose one.")},
    )
    duration = forms.ChoiceField(
        label=_("How long has it bothered you?"),
        widget=forms.RadioSelect,
        choices=[
            ("under_6_weeks", _("Less than 6 weeks")),
            ("6_weeks_to_3_months", _("6 weeks to 3 months")),
            ("over_3_months", _("More than 3 months")),
        ],
        error_messages={"required": _("Please choose one.")},
    )
    tried = forms.MultipleChoiceField(
        label=_("What have you tried? (choose any)"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        choices=[
            ("rest", _("Rest or ice")),
            ("physical_therapy", _("Physical therapy or exercises")),
            ("medicines", _("Pain medicines")),
            ("injections", _("Injections")),
            ("brace", _("A brace or support")),
        ],
    )
    avoid_surgery = forms.ChoiceField(
        label=_("Are you hoping to avoid or delay surgery?"),
        widget=forms.RadioSelect,
        choices=[("yes", _("Yes")), ("no", _("No")), ("unsure", _("Not sure"))],
        error_messages={"required": _("Please choose one.")},
    )
    red_flags = forms.MultipleChoiceField(
        label=_("Do any of these apply now? (choose any)"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        choices=[
            ("fever", _("Fever or feeling very unwell")),
            ("recent_fall", _("A fall or accident in the last few days")),
            ("cannot_bear_weight", _("Sudden severe swelling, or you cannot put weight on it")),
            ("numbness_weakness", _("New numbness or weakness in an arm or leg")),
            ("weight_loss", _("Weight loss you cannot explain")),
        ],
    )

    def answers(self) -> selfcheck.Answers:
        data = self.cleaned_data
        return selfcheck.Answers(
            area=data["area"],
            duration=data["duration"],
            tried=frozenset(data["tried"]),
            avoid_surgery=data["avoid_surgery"],
            red_flags=frozenset(data["red_flags"]),
        )
