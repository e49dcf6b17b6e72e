"""The same-day BMAC/PRP procedure as structured data, and adverse events.

One visit, one `ProcedureRecord`, filled by the clinician and the processing technician
as it happens, section by section (time-out, blood draw, harvest, processing and
counts, injections), each section saved with who and when. The product's
classification (PAW code, DEPA, cell dose, concentration factor) is computed from the
counts by `procedures.classification`, never typed, and stored with the version that
computed it. A physician signs the record off; the signature is bound to a SHA-256 of
the record's canonical content, and later changes are amendments with a reason, the
signed original kept readable.

Counts are stored as the lab sheet gives them: platelets and white cells (and
neutrophils) per 10³/µL, red cells per 10⁶/µL, nucleated cells per 10⁶/mL; the
classification functions take counts per µL and the record converts.
"""

import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from patients.models import BodySite, Side

POSITIVE = [MinValueValidator(Decimal("0"))]


def _volume(label: Any) -> models.DecimalField:
    return models.DecimalField(label, max_digits=7, decimal_places=2, null=True, blank=True, validators=POSITIVE)


def _count(label: Any) -> models.DecimalField:
    return models.DecimalField(label, max_digits=10, decimal_places=2, null=True, blank=True, validators=POSITIVE)


def _user() -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )


class Anticoagulant(models.TextChoices):
    ACD_A = "acd_a", _("ACD-A (anticoagulant citrate dextrose, solution A)")
    HEPARIN = "heparin", _("Heparin")
    SODIUM_CITRATE = "sodium_citrate", _("Sodium citrate")
    NONE = "none", _("None")


class Activation(models.TextChoices):
    NONE = "none", _("None")
    CALCIUM_CHLORIDE = "calcium_chloride", _("Calcium chloride")
    CALCIUM_GLUCONATE = "calcium_gluconate", _("Calcium gluconate")
    THROMBIN = "thrombin", _("Thrombin")
    OTHER = "other", _("Other")


class ProcedureRecord(models.Model):
    """One same-day procedure visit for one episode: harvest, processing, product, injection, sign-off."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", _("In progress")
        SIGNED = "signed", _("Signed")
        AMENDED = "amended", _("Signed, amended since")

    class HarvestSite(models.TextChoices):
        POSTERIOR_ILIAC_CREST = "posterior_iliac_crest", _("Posterior iliac crest")
        ANTERIOR_ILIAC_CREST = "anterior_iliac_crest", _("Anterior iliac crest")
        OTHER = "other", _("Other")

    class Needle(models.TextChoices):
        NEEDLE = "needle", _("Aspiration needle")
        TROCAR = "trocar", _("Trocar")

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    episode = models.ForeignKey("patients.Episode", on_delete=models.PROTECT, related_name="procedures")
    appointment = models.ForeignKey(
        "scheduling.Appointment", null=True, blank=True, on_delete=models.PROTECT, related_name="procedures"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_PROGRESS)
    procedure_date = models.DateField(help_text="The visit's date in the office's time zone.")
    consent = models.ForeignKey(
        "patients.ConsentSignature", null=True, blank=True, on_delete=models.PROTECT, related_name="procedures"
    )
    consent_override_reason = models.TextField(
        blank=True, help_text="A physician's reason to start without a valid consent."
    )
    consent_override_by = _user()
    started_at = models.DateTimeField(default=timezone.now)
    started_by = _user()

    # Time-out.
    timeout_identifiers = models.JSONField(default=list, blank=True, help_text="The two identifiers checked.")
    timeout_site_side_confirmed = models.BooleanField(default=False)
    timeout_consent_confirmed = models.BooleanField(default=False)
    timeout_allergies_reviewed = models.BooleanField(default=False)
    timeout_anticoagulants_reviewed = models.BooleanField(default=False)
    timeout_at = models.DateTimeField(null=True, blank=True)
    timeout_by = _user()

    # Blood draw for PRP.
    blood_volume_ml = _volume(_("blood drawn (mL)"))
    blood_anticoagulant = models.CharField(max_length=20, choices=Anticoagulant.choices, blank=True)
    blood_anticoagulant_ml = _volume(_("anticoagulant (mL)"))
    blood_drawn_at = models.DateTimeField(null=True, blank=True)
    blood_by = _user()

    # Harvest of bone marrow.
    harvest_site = models.CharField(max_length=30, choices=HarvestSite.choices, blank=True)
    harvest_side = models.CharField(max_length=10, choices=Side.choices, blank=True)
    anaesthetic = models.CharField(max_length=120, blank=True, help_text="e.g. lidocaine 1%")
    anaesthetic_ml = _volume(_("anaesthetic (mL)"))
    needle = models.CharField(max_length=10, choices=Needle.choices, blank=True)
    needle_gauge = models.CharField(max_length=20, blank=True, help_text="e.g. 11 G")
    punctures = models.PositiveSmallIntegerField(null=True, blank=True)
    ml_per_draw = _volume(_("mL per draw"))
    aspirate_volume_ml = _volume(_("total aspirate (mL)"))
    harvest_anticoagulant = models.CharField(max_length=20, choices=Anticoagulant.choices, blank=True)
    harvest_started_at = models.DateTimeField(null=True, blank=True)
    harvest_ended_at = models.DateTimeField(null=True, blank=True, help_text="When the needle was removed.")
    harvest_sample_label = models.CharField(max_length=60, blank=True, help_text="Scanned or typed at the harvest.")
    harvest_by = _user()

    # Processing.
    device = models.CharField(max_length=120, blank=True, help_text="Centrifuge or system.")
    kit = models.CharField(max_length=120, blank=True)
    kit_lot = models.CharField(max_length=60, blank=True)
    spins = models.JSONField(default=list, blank=True, help_text='[{"g": 1500, "minutes": 10}, ...]')
    processing_input_ml = _volume(_("input (mL)"))
    concentrate_volume_ml = _volume(_("concentrate (mL)"))
    prp_volume_ml = _volume(_("PRP (mL)"))
    activation = models.CharField(max_length=20, choices=Activation.choices, blank=True)
    activation_detail = models.CharField(max_length=120, blank=True)
    cultured_or_expanded = models.BooleanField(default=False, help_text="Must stay False (21 CFR 1271.15(b)).")
    added_agents = models.JSONField(default=list, blank=True, help_text="Agents added to the product.")
    processing_done_at = models.DateTimeField(null=True, blank=True)
    processing_by = _user()

    # Counts: whole blood at baseline and the PRP (per 10³/µL; red cells per 10⁶/µL); cells per 10⁶/mL.
    baseline_platelets = _count(_("whole-blood platelets (×10³/µL)"))
    baseline_wbc = _count(_("whole-blood white cells (×10³/µL)"))
    baseline_neutrophils = _count(_("whole-blood neutrophils (×10³/µL)"))
    baseline_rbc = _count(_("whole-blood red cells (×10⁶/µL)"))
    prp_platelets = _count(_("PRP platelets (×10³/µL)"))
    prp_wbc = _count(_("PRP white cells (×10³/µL)"))
    prp_neutrophils = _count(_("PRP neutrophils (×10³/µL)"))
    prp_rbc = _count(_("PRP red cells (×10⁶/µL)"))
    aspirate_tnc = _count(_("aspirate nucleated cells (×10⁶/mL)"))
    concentrate_tnc = _count(_("concentrate nucleated cells (×10⁶/mL)"))
    cfu_f = _count(_("CFU-F (per mL)"))
    viability_pct = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )  # fmt: skip
    counts_by = _user()

    # The product, computed from the counts (procedures.classification), with the version that did it.
    paw_code = models.CharField(max_length=20, blank=True)
    depa = models.JSONField(default=dict, blank=True)
    cell_dose = models.BigIntegerField(null=True, blank=True, help_text="Nucleated cells injected.")
    concentration_factor = models.FloatField(null=True, blank=True)
    platelet_factor = models.FloatField(null=True, blank=True)
    classification_version = models.CharField(max_length=20, blank=True)

    rehabilitation_protocol = models.TextField(blank=True)

    # Sign-off: bound to the SHA-256 of the canonical content signed, kept as signed.
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        "scheduling.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="signed_procedures"
    )
    signed_meaning = models.CharField(max_length=300, blank=True)
    signed_content = models.JSONField(null=True, blank=True)
    signed_sha256 = models.CharField(max_length=64, blank=True)
    baseline_override_reason = models.TextField(
        blank=True, help_text="Why the procedure was signed without a baseline questionnaire."
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = _user()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-procedure_date", "-started_at"]
        indexes = [models.Index(fields=["episode", "status"]), models.Index(fields=["procedure_date"])]

    def __str__(self) -> str:
        return f"Procedure {self.uuid} on {self.procedure_date}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("procedures:record", kwargs={"uuid": self.uuid})

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.harvest_started_at and self.harvest_ended_at and self.harvest_ended_at < self.harvest_started_at:
            errors["harvest_ended_at"] = _("The harvest cannot end before it starts.")
        if self.status != self.Status.IN_PROGRESS and not (self.signed_sha256 and self.signed_by_id):
            errors["status"] = _("A record is signed through sign-off only.")
        if errors:
            raise ValidationError(errors)


class Injection(models.Model):
    """One injection of the product during the visit (a record may have several)."""

    class Guidance(models.TextChoices):
        ULTRASOUND = "ultrasound", _("Ultrasound")
        FLUOROSCOPY = "fluoroscopy", _("Fluoroscopy")
        NONE = "none", _("None (landmark)")

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    record = models.ForeignKey(ProcedureRecord, on_delete=models.PROTECT, related_name="injections")
    target_structure = models.CharField(max_length=160, help_text="e.g. medial compartment, supraspinatus tendon")
    site = models.CharField(max_length=20, choices=BodySite.choices)
    side = models.CharField(max_length=10, choices=Side.choices)
    guidance = models.CharField(max_length=12, choices=Guidance.choices)
    concentrate_ml = _volume(_("concentrate (mL)"))
    prp_ml = _volume(_("PRP (mL)"))
    carrier = models.CharField(max_length=120, blank=True)
    activation_agent = models.CharField(max_length=120, blank=True)
    sample_label = models.CharField(max_length=60, blank=True, help_text="Scanned or typed at the injection.")
    injected_at = models.DateTimeField()
    recorded_by = _user()
    history = HistoricalRecords()

    class Meta:
        ordering = ["injected_at"]

    def __str__(self) -> str:
        return f"Injection into {self.target_structure}"

    def clean(self) -> None:
        if not (self.concentrate_ml or self.prp_ml):
            raise ValidationError({"prp_ml": _("Give the volume of concentrate, of PRP, or both.")})


class ProcedureAmendment(models.Model):
    """A change to a signed record: what changed, why, by whom; the content's hash after it."""

    record = models.ForeignKey(ProcedureRecord, on_delete=models.PROTECT, related_name="amendments")
    reason = models.TextField()
    changes = models.JSONField(help_text='{"field": [before, after], ...}')
    content_sha256 = models.CharField(max_length=64)
    amended_at = models.DateTimeField(default=timezone.now)
    amended_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["amended_at"]

    def __str__(self) -> str:
        return f"Amendment of {self.record_id} at {self.amended_at:%Y-%m-%d %H:%M}"


class AdverseEvent(models.Model):
    """An adverse event in an episode, graded (CTCAE 1-5) and judged for relatedness by a physician."""

    class Kind(models.TextChoices):
        HARVEST_SITE_PAIN = "harvest_site_pain", _("Pain at the harvest site")
        HAEMATOMA = "haematoma", _("Haematoma")
        INFECTION = "infection", _("Infection")
        NERVE_INJURY = "nerve_injury", _("Nerve injury")
        POST_INJECTION_FLARE = "post_injection_flare", _("Post-injection flare")
        ALLERGIC_REACTION = "allergic_reaction", _("Allergic reaction")
        OTHER = "other", _("Other")

    class Relatedness(models.TextChoices):
        UNRELATED = "unrelated", _("Not related")
        UNLIKELY = "unlikely", _("Unlikely")
        POSSIBLE = "possible", _("Possibly")
        PROBABLE = "probable", _("Probably")
        DEFINITE = "definite", _("Definitely")
        NOT_ASSESSED = "not_assessed", _("Not yet judged")

    class Outcome(models.TextChoices):
        RECOVERED = "recovered", _("Recovered")
        RECOVERING = "recovering", _("Recovering")
        NOT_RECOVERED = "not_recovered", _("Not recovered")
        SEQUELAE = "sequelae", _("Recovered with lasting effects")
        FATAL = "fatal", _("Fatal")
        UNKNOWN = "unknown", _("Unknown")

    # Related in the physician's judgement: possibly, probably or definitely.
    RELATED = (Relatedness.POSSIBLE, Relatedness.PROBABLE, Relatedness.DEFINITE)

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    episode = models.ForeignKey("patients.Episode", on_delete=models.PROTECT, related_name="adverse_events")
    procedure = models.ForeignKey(
        ProcedureRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="adverse_events"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    kind_other = models.CharField(max_length=160, blank=True)
    description = models.TextField(blank=True)
    onset_date = models.DateField()
    grade = models.PositiveSmallIntegerField(
        choices=[(1, "1 Mild"), (2, "2 Moderate"), (3, "3 Severe"), (4, "4 Life-threatening"), (5, "5 Death")]
    )
    serious = models.BooleanField()
    related_to_harvest = models.CharField(max_length=15, choices=Relatedness.choices, default=Relatedness.NOT_ASSESSED)
    related_to_injection = models.CharField(
        max_length=15, choices=Relatedness.choices, default=Relatedness.NOT_ASSESSED
    )
    related_to_product = models.CharField(max_length=15, choices=Relatedness.choices, default=Relatedness.NOT_ASSESSED)
    action = models.TextField(blank=True, help_text="What was done.")
    outcome = models.CharField(max_length=15, choices=Outcome.choices, default=Outcome.UNKNOWN)
    reported_at = models.DateTimeField(default=timezone.now)
    reported_by = _user()
    adjudicated_at = models.DateTimeField(null=True, blank=True)
    adjudicated_by = _user()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-onset_date"]
        indexes = [models.Index(fields=["kind", "grade"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(grade__gte=1, grade__lte=5), name="adverse_event_grade_1_to_5")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} (grade {self.grade})"

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.kind == self.Kind.OTHER and not self.kind_other.strip():
            errors["kind_other"] = _("Say what the event was.")
        if self.grade is not None:
            # CTCAE grade 5 is death; grades 4 and 5 (life-threatening, fatal) are serious by definition.
            if self.grade == 5 and self.outcome != self.Outcome.FATAL:
                errors["outcome"] = _("A grade 5 event is a death: the outcome is fatal.")
            elif self.outcome == self.Outcome.FATAL and self.grade != 5:
                errors["grade"] = _("A fatal outcome is grade 5.")
            if self.grade >= 4 and not self.serious:
                errors["serious"] = _("A life-threatening or fatal event (grade 4 or 5) is serious.")
        if errors:
            raise ValidationError(errors)

    @property
    def is_related(self) -> bool:
        return any(
            value in self.RELATED
            for value in (self.related_to_harvest, self.related_to_injection, self.related_to_product)
        )
