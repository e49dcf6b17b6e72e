"""Forms of e-consent: signing (in the office or from a link), withdrawing, publishing a new version.

Each checks what was typed and hands it to one service in `patients.consent`; a refusal
from the service goes next to the field it names (`show_refusal`).
"""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from patients.consent import MAX_SIGNATURE_BYTES
from patients.models import ConsentDocument


def show_refusal(form: forms.Form, error: ValidationError) -> None:
    """A service's refusal next to the field it names (if the form has it), else at the top of the form."""
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            for text in messages:
                form.add_error(name if name in form.fields else None, text)
    else:
        for text in error.messages:
            form.add_error(None, text)


class ConsentSignForm(forms.Form):
    """The patient's signature: printed name, a drawn signature (or a typed one), a witness where one is needed.

    `document` and `shown_sha256` carry what the page showed, so a text changed meanwhile
    is refused rather than signed unseen.
    """

    document = forms.UUIDField(widget=forms.HiddenInput)
    shown_sha256 = forms.CharField(max_length=64, widget=forms.HiddenInput)
    printed_name = forms.CharField(
        label=_("Your full name"),
        max_length=160,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": _("Please print your full name.")},
    )
    signature_png = forms.CharField(
        required=False, max_length=MAX_SIGNATURE_BYTES * 4 // 3 + 40, widget=forms.HiddenInput
    )
    typed = forms.BooleanField(
        label=_("I am signing by typing my name"),
        required=False,
        help_text=_(
            "Tick this instead of drawing if you cannot or prefer not to draw: your typed name is your signature."
        ),
    )
    witness_name = forms.CharField(
        label=_("Witness's full name"),
        max_length=160,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    witness_is_me = forms.BooleanField(required=False)

    def __init__(self, *args: Any, witness: bool, staff_witness: str = "", **kwargs: Any) -> None:
        """`witness`: the document needs one; `staff_witness`: the signed-in person who may witness, by name."""
        super().__init__(*args, **kwargs)
        if not witness:
            del self.fields["witness_name"]
        if not (witness and staff_witness):
            del self.fields["witness_is_me"]
        else:
            self.fields["witness_is_me"].label = _("I, %(name)s, am the witness") % {"name": staff_witness}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("typed") and not data.get("signature_png"):
            self.add_error(
                "signature_png",
                _("Please sign in the box, or tick “I am signing by typing my name”."),
            )
        return data


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the consent is withdrawn"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the patient said, and when. The signed consent stays on file, marked withdrawn."),
        error_messages={"required": _("Please write why, or what the patient said.")},
    )


class DocumentForm(forms.Form):
    """A new version of the consent in one language."""

    language = forms.ChoiceField(label=_("Language"), choices=ConsentDocument.Language.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("Text (Markdown)"),
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 24, "class": "markdown"}),
        help_text=_(
            "Headings start with ##, list items with -. Cover the procedure, its risks, "
            "and the alternatives including surgery."
        ),
    )
    include_regulatory_notice = forms.BooleanField(
        label=_("Include the practice's regulatory notice (when the practice turns it on)"),
        required=False,
        initial=True,
    )
    requires_witness = forms.BooleanField(
        label=_("A witness must sign too (then it can only be signed in the office)"), required=False
    )
