"""The practice as the public meets it: identity, offices, pages, inquiries."""

import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Practice(models.Model):
    """The practice itself. One row; staff edit it in the admin."""

    name = models.CharField(max_length=120)
    legal_name = models.CharField(max_length=160, blank=True)
    notification_email = models.EmailField(help_text="Where new-inquiry notices go (they never contain the message).")
    regulatory_notice_enabled = models.BooleanField(default=False)
    regulatory_notice_en = models.TextField(blank=True, help_text="Shown on the therapy pages in English.")
    regulatory_notice_es = models.TextField(blank=True, help_text="Shown on the therapy pages in Spanish.")
    is_example = models.BooleanField(
        default=False, help_text="Marks the contact details as examples (the demo practice)."
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "practice"

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # One practice per installation: the first row is the practice.
        if not self.pk and Practice.objects.exists():
            raise ValidationError("There is already a practice; edit it instead.")
        super().save(*args, **kwargs)

    @property
    def regulatory_notice(self) -> str:
        if not self.regulatory_notice_enabled:
            return ""
        text = self.regulatory_notice_es if get_language() == "es" else self.regulatory_notice_en
        return text or self.regulatory_notice_en


class Office(models.Model):
    """A place where patients are seen."""

    name = models.CharField(max_length=80, help_text="As English speakers write it, e.g. 'Los Angeles'.")
    name_es = models.CharField(
        max_length=80, blank=True, help_text="As Spanish speakers write it, e.g. 'Los Ángeles'; empty if the same."
    )
    slug = models.SlugField(unique=True)
    street = models.CharField(max_length=160)
    suite = models.CharField(max_length=60, blank=True)
    city = models.CharField(max_length=80)
    state = models.CharField(max_length=2, default="CA")
    postal_code = models.CharField(max_length=10)
    phone = models.CharField(max_length=30)
    email = models.EmailField(blank=True)
    map_url = models.URLField(blank=True, help_text="A link to the office on a map service (opened by the visitor).")
    time_zone = models.CharField(max_length=60, default="America/Los_Angeles")
    parking_en = models.CharField(max_length=240, blank=True)
    parking_es = models.CharField(max_length=240, blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("website:office", kwargs={"slug": self.slug})

    @property
    def local_name(self) -> str:
        """The office's name in the active language ("Los Ángeles" on Spanish pages)."""
        return (self.name_es if get_language() == "es" else self.name) or self.name

    @property
    def phone_href(self) -> str:
        return "tel:" + "".join(ch for ch in self.phone if ch.isdigit() or ch == "+")

    @property
    def parking(self) -> str:
        return (self.parking_es if get_language() == "es" else self.parking_en) or self.parking_en

    @property
    def address_lines(self) -> list[str]:
        first = f"{self.street}, {self.suite}" if self.suite else self.street
        return [first, f"{self.city}, {self.state} {self.postal_code}"]


class Weekday(models.IntegerChoices):
    """Days of the week as Python numbers them (`date.weekday()`: Monday is 0); offices and providers share them."""

    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class OfficeHours(models.Model):
    """Opening hours of an office on one weekday (Monday is 0)."""

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["office", "weekday", "opens"]
        verbose_name_plural = "office hours"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes__gt=models.F("opens")), name="office_hours_close_after_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.office} {self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class SocialLink(models.Model):
    """A link to one of the practice's social media profiles (a plain link, no widget)."""

    class Network(models.TextChoices):
        FACEBOOK = "facebook", "Facebook"
        INSTAGRAM = "instagram", "Instagram"
        YOUTUBE = "youtube", "YouTube"
        LINKEDIN = "linkedin", "LinkedIn"
        X = "x", "X"
        TIKTOK = "tiktok", "TikTok"

    network = models.CharField(max_length=20, choices=Network.choices, unique=True)
    url = models.URLField()
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "network"]

    def __str__(self) -> str:
        return self.get_network_display()


class TherapyPage(models.Model):
    """The text of one public page in one language, in Markdown.

    Every change is kept (with who and when) because what a practice claims in
    public matters to regulators.
    """

    class Slug(models.TextChoices):
        STEM_CELLS = "stem-cell-therapy", "Stem cell therapy"
        PRP = "prp", "Platelet-rich plasma (PRP)"

    class Language(models.TextChoices):
        ENGLISH = "en", "English"
        SPANISH = "es", "Spanish"

    slug = models.CharField(max_length=40, choices=Slug.choices)
    language = models.CharField(max_length=2, choices=Language.choices)
    title = models.CharField(max_length=120)
    summary = models.TextField(help_text="One short paragraph under the title (plain text).")
    body = models.TextField(help_text="Markdown. Sections start with '## Heading {#anchor}'. HTML is removed.")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["slug", "language"]
        constraints = [models.UniqueConstraint(fields=["slug", "language"], name="therapy_page_one_per_language")]

    def __str__(self) -> str:
        return f"{self.title} ({self.language})"

    def get_absolute_url(self) -> str:
        from django.utils import translation

        with translation.override(self.language):
            return reverse("website:stem_cells" if self.slug == self.Slug.STEM_CELLS else "website:prp")


class ResultsVersion(models.Model):
    """One published version of "Our results" for one condition (or, with no indication, all of them).

    `figures` is the snapshot a physician reviewed, already suppressed (`website.results`):
    the public page shows the newest version and never changes until someone publishes the
    next one. Rows are never edited: each publication is a new row with who and when.
    """

    indication = models.CharField(max_length=30, blank=True, help_text="Blank: every condition together.")
    figures = models.JSONField()
    drawn_on = models.DateField(help_text="The day the data was drawn.")
    min_n = models.PositiveSmallIntegerField()
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["indication", "-published_at", "-pk"]
        indexes = [models.Index(fields=["indication", "-published_at"])]

    def __str__(self) -> str:
        return f"Results {self.indication or 'all'} published {self.published_at:%Y-%m-%d}"


class Inquiry(models.Model):
    """A non-medical question sent through the Get In Touch form."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        ANSWERED = "answered", _("Answered")
        ARCHIVED = "archived", _("Archived")

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    name = models.CharField(_("name"), max_length=120)
    email = models.EmailField(_("email"))
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    preferred_office = models.ForeignKey(
        Office, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("preferred office")
    )
    message = models.TextField(_("message"), max_length=4000)
    language = models.CharField(max_length=2, default="en")
    sent_despite_medical_notice = models.BooleanField(default=False)
    urgent = models.BooleanField(
        default=False,
        help_text="The message mentioned an urgent warning sign; the sender was told to call the office or 911.",
    )
    client_key = models.CharField(max_length=64, db_index=True, help_text="A keyed hash of the sender's IP address.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    created_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "inquiries"
        indexes = [
            models.Index(fields=["email", "created_at"]),
            models.Index(fields=["status", "urgent", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}> {self.created_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("website:inquiry_detail", kwargs={"uuid": self.uuid})
