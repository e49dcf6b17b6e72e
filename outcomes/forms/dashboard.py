"""The dashboard's selection: which indication, and the filters (office, physician, site, product, dates).

A GET form (the selection is in the URL: codes and ids of offices and clinicians only,
never a patient). Staff pages are in English, as the practice chose.
"""

from typing import Any

from django import forms

from outcomes import dashboard
from patients.models import BodySite, Indication
from scheduling.models import Provider
from website.models import Office

PAW_CLASSES = [("P1", "P1"), ("P2", "P2"), ("P3", "P3"), ("P4", "P4")]


class DashboardForm(forms.Form):
    indication = forms.ChoiceField(
        choices=Indication.choices,
        initial=Indication.OSTEOARTHRITIS,
        error_messages={"invalid_choice": "Choose a condition from the list."},
    )
    office = forms.ModelChoiceField(
        queryset=Office.objects.order_by("name"),
        required=False,
        empty_label="Both offices",
        error_messages={"invalid_choice": "Choose an office from the list."},
    )
    physician = forms.ModelChoiceField(
        queryset=Provider.objects.filter(episodes__isnull=False).distinct().order_by("name"),
        required=False,
        empty_label="Every physician",
        error_messages={"invalid_choice": "Choose a physician from the list."},
    )
    site = forms.ChoiceField(
        choices=[("", "Every site"), *BodySite.choices],
        required=False,
        error_messages={"invalid_choice": "Choose a body site from the list."},
    )
    paw_class = forms.ChoiceField(
        label="PRP (PAW class)",
        choices=[("", "Every class"), *PAW_CLASSES],
        required=False,
        error_messages={"invalid_choice": "Choose a PAW class from the list."},
    )
    dose_band = forms.ChoiceField(
        label="Cell dose",
        choices=[("", "Every dose"), ("low", "Lowest third"), ("middle", "Middle third"), ("high", "Highest third")],
        required=False,
        error_messages={"invalid_choice": "Choose a dose band from the list."},
    )
    date_from = forms.DateField(
        label="Treated from",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date like 2025-01-31."},
    )
    date_to = forms.DateField(
        label="Treated until",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date like 2025-12-31."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["office"].label_from_instance = lambda office: office.name  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end of the range is before its start.")
        return data

    def selection(self) -> tuple[str, dashboard.Filters]:
        """The indication and filters chosen (call after is_valid())."""
        data = self.cleaned_data
        return data["indication"], dashboard.Filters(
            office=data["office"].pk if data.get("office") else None,
            physician=data["physician"].pk if data.get("physician") else None,
            site=data.get("site") or "",
            paw_class=data.get("paw_class") or "",
            dose_band=data.get("dose_band") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
