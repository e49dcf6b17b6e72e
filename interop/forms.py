"""The export page's two forms: which treated episodes (indication, treatment dates), and an identified export's reason.

The selection is sent by GET for the de-identified CSV: an indication and dates, never a
patient, so the address carries no health information. The identified export is a POST.
"""

from typing import Any

from django import forms

from interop.models import IdentifiedExport
from interop.queries import Selection
from patients.models import Indication


class _Date(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class SelectionForm(forms.Form):
    indication = forms.ChoiceField(
        choices=[("", "All indications"), *Indication.choices],
        required=False,
        error_messages={"invalid_choice": "Choose an indication from the list."},
    )
    procedure_from = forms.DateField(
        label="Treated on or after",
        required=False,
        widget=_Date(),
        error_messages={"invalid": "Enter a date, e.g. 2031-01-31."},
    )
    procedure_to = forms.DateField(
        label="Treated on or before",
        required=False,
        widget=_Date(),
        error_messages={"invalid": "Enter a date, e.g. 2031-12-31."},
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("procedure_from"), cleaned.get("procedure_to")
        if start is not None and end is not None and end < start:
            self.add_error("procedure_to", "The end of the range is before its start.")
        return cleaned

    def selection(self) -> Selection:
        return Selection(
            indication=self.cleaned_data["indication"],
            procedure_from=self.cleaned_data["procedure_from"],
            procedure_to=self.cleaned_data["procedure_to"],
        )


REASON_MESSAGE = (
    f"Write why the identified data is needed (what it is for, and who approved it), "
    f"in at least {IdentifiedExport.REASON_MIN_LENGTH} characters."
)


class IdentifiedExportForm(SelectionForm):
    """The selection, and why names, record numbers and dates must leave the system (administrators only)."""

    reason = forms.CharField(
        label="Reason for an identified export",
        widget=forms.Textarea(attrs={"rows": 3}),
        min_length=IdentifiedExport.REASON_MIN_LENGTH,
        help_text="Kept with the audit log's record of this export.",
        error_messages={"required": REASON_MESSAGE, "min_length": REASON_MESSAGE},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "identified")
        super().__init__(*args, **kwargs)
