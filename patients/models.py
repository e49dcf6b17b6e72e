"""The patient chart: who the patient is, what they reported and what the clinicians recorded.

A patient's care is organised in treatment **episodes** (one indication on one body site
and side): the candidacy assessment decides whether one opens, consent is signed for
it, and the procedure record and outcomes (other apps) hang on it. A patient can have
several.

Other records point at a patient by primary key; URLs, emails and logs use `uuid`.
Every record here keeps its full history (django-simple-history) and who created and
last changed it. What a patient typed (intake) is marked patient-reported until a
clinician confirms it.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from patients.validators import validate_date_of_birth


class Source(models.TextChoices):
    """Who said it: the patient (intake, a questionnaire) or a clinician."""

    PATIENT = "patient", _("Reported by the patient")
    CLINICIAN = "clinician", _("Recorded by a clinician")


class Indication(models.TextChoices):
    """The nine conditions the practice treats (its therapy pages list them)."""

    OSTEOARTHRITIS = "osteoarthritis", _("Osteoarthritis")
    TENDON_INJURY = "tendon_injury", _("Tendon injury")
    ROTATOR_CUFF = "rotator_cuff", _("Partial rotator cuff tear")
    BACK_PAIN = "back_pain", _("Back pain from worn discs or facet joints")
    KNEE_LIGAMENT = "knee_ligament", _("Knee ligament sprain or tear (MCL, ACL, PCL, LCL)")
    PATELLAR_TENDONITIS = "patellar_tendonitis", _("Patellar tendonitis")
    HAMSTRING = "hamstring", _("Hamstring tendinopathy")
    HAND_KNEE_FOOT_PAIN = "hand_knee_foot_pain", _("Pain in the hands, knees or feet")
    CARTILAGE = "cartilage", _("Cartilage damage")


class BodySite(models.TextChoices):
    KNEE = "knee", _("Knee")
    HIP = "hip", _("Hip")
    SHOULDER = "shoulder", _("Shoulder")
    ELBOW = "elbow", _("Elbow")
    WRIST_HAND = "wrist_hand", _("Wrist or hand")
    LUMBAR_SPINE = "lumbar_spine", _("Lower back (lumbar spine)")
    CERVICAL_SPINE = "cervical_spine", _("Neck (cervical spine)")
    HAMSTRING = "hamstring", _("Hamstring (back of the thigh)")
    ANKLE_FOOT = "ankle_foot", _("Ankle or foot")
    OTHER = "other", _("Other")


class Side(models.TextChoices):
    LEFT = "left", _("Left")
    RIGHT = "right", _("Right")
    BILATERAL = "bilateral", _("Both sides")
    MIDLINE = "midline", _("Midline (spine)")


class Patient(models.Model):
    """A patient: identity, contact, the practice's medical record number.

    `mrn` is assigned by the practice when the chart is created (`patients.services`).
    A chart found to be a duplicate is merged into the surviving one: its records move
    there and it stays, pointing at the survivor (`merged_into`), never deleted.
    """

    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        SPANISH = "es", _("Spanish")

    class Sex(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other")
        UNKNOWN = "unknown", _("Not given")

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    mrn = models.CharField(_("medical record number"), max_length=20, unique=True, null=True, blank=True)
    first_name = models.CharField(_("first name"), max_length=80)
    last_name = models.CharField(_("last name"), max_length=80)
    date_of_birth = models.DateField(_("date of birth"), validators=[validate_date_of_birth])
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    street = models.CharField(_("street address"), max_length=160, blank=True)
    city = models.CharField(_("city"), max_length=80, blank=True)
    state = models.CharField(_("state"), max_length=2, blank=True)
    postal_code = models.CharField(_("ZIP code"), max_length=10, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.ENGLISH
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from",
        help_text="Set when this chart was a duplicate: everything now lives on that chart.",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["last_name", "first_name", "date_of_birth"]
        indexes = [
            models.Index(fields=["last_name", "first_name"]),
            models.Index(fields=["email"]),
            models.Index(fields=["date_of_birth"]),
            models.Index(fields=["phone"]),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("patients:chart", kwargs={"uuid": self.uuid})

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None


class MedicalHistory(models.Model):
    """What in a patient's history matters for a harvest and an injection. One per patient."""

    class Smoking(models.TextChoices):
        NEVER = "never", _("Never")
        FORMER = "former", _("Former smoker")
        CURRENT = "current", _("Current smoker")
        UNKNOWN = "unknown", _("Not asked")

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="medical_history")
    diabetes = models.BooleanField(_("diabetes"), null=True, blank=True)
    smoking = models.CharField(_("smoking"), max_length=10, choices=Smoking.choices, default=Smoking.UNKNOWN)
    cancer_history = models.BooleanField(_("history of cancer"), null=True, blank=True)
    cancer_details = models.CharField(_("cancer: which and when"), max_length=200, blank=True)
    bleeding_disorder = models.BooleanField(_("bleeding disorder"), null=True, blank=True)
    prior_surgery_at_site = models.CharField(_("earlier surgery at the treated site"), max_length=300, blank=True)
    notes = models.TextField(_("other relevant history"), blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.CLINICIAN)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "medical histories"

    def __str__(self) -> str:
        return f"Medical history of patient {self.patient_id}"


class Allergy(models.Model):
    """An allergy or intolerance, as reported or recorded."""

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="allergies")
    substance = models.CharField(_("substance"), max_length=120)
    reaction = models.CharField(_("reaction"), max_length=200, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.CLINICIAN)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_active = models.BooleanField(default=True, help_text="False once a clinician found it was recorded in error.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["substance"]
        verbose_name_plural = "allergies"

    def __str__(self) -> str:
        return self.substance


class Medication(models.Model):
    """A medication the patient takes. `drug_class` is computed from the name (`patients.medications`)."""

    class DrugClass(models.TextChoices):
        ANTICOAGULANT = "anticoagulant", _("Anticoagulant")
        ANTIPLATELET = "antiplatelet", _("Antiplatelet")
        NSAID = "nsaid", _("NSAID")
        CORTICOSTEROID = "corticosteroid", _("Corticosteroid")
        OTHER = "other", _("Other")

    # The classes that matter for a bone-marrow harvest and for platelet function.
    FLAGGED = (DrugClass.ANTICOAGULANT, DrugClass.ANTIPLATELET, DrugClass.NSAID)

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="medications")
    name = models.CharField(_("medication"), max_length=120)
    dose = models.CharField(_("dose and how often"), max_length=120, blank=True)
    drug_class = models.CharField(max_length=20, choices=DrugClass.choices, default=DrugClass.OTHER)
    # Which version of the classification produced `drug_class` (a computation records its version).
    classified_by = models.CharField(max_length=40, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.CLINICIAN)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_active = models.BooleanField(default=True, help_text="False once stopped or recorded in error.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_flagged(self) -> bool:
        return self.drug_class in self.FLAGGED


class Intake(models.Model):
    """The online intake a patient fills before the consultation, section by section, saved as they go.

    `answers` holds each section's cleaned answers under its key (the sections and their
    fields are defined in `patients.intake`). On submission, what the patient listed as
    medications and allergies lands in the chart as patient-reported rows, for a
    clinician to confirm.
    """

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", _("In progress")
        SUBMITTED = "submitted", _("Submitted by the patient")
        CONFIRMED = "confirmed", _("Reviewed by a clinician")

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="intakes")
    appointment = models.ForeignKey(
        "scheduling.Appointment", null=True, blank=True, on_delete=models.PROTECT, related_name="intakes"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_PROGRESS)
    answers = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=2, default="en")
    started_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Intake {self.uuid} ({self.get_status_display()})"


class Episode(models.Model):
    """One indication on one body site and side, treated by one physician: the spine of the record.

    Consent, the procedure, follow-ups and outcomes hang on it. It opens when a
    candidacy assessment decides "candidate"; its status moves with the care.
    """

    class Status(models.TextChoices):
        CANDIDATE = "candidate", _("Candidate: consent to be signed")
        CONSENTED = "consented", _("Consented: procedure to be done")
        TREATED = "treated", _("Treated: in follow-up")
        CLOSED = "closed", _("Closed")
        WITHDRAWN = "withdrawn", _("Consent withdrawn")

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="episodes")
    indication = models.CharField(max_length=30, choices=Indication.choices)
    site = models.CharField(max_length=20, choices=BodySite.choices)
    side = models.CharField(max_length=10, choices=Side.choices)
    physician = models.ForeignKey("scheduling.Provider", on_delete=models.PROTECT, related_name="episodes")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CANDIDATE)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["patient", "status"]), models.Index(fields=["indication", "status"])]

    def __str__(self) -> str:
        return f"{self.get_side_display()} {self.get_site_display().lower()}: {self.get_indication_display()}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("patients:episode", kwargs={"uuid": self.uuid})


class CandidacyAssessment(models.Model):
    """The clinician's assessment of one indication: the details that decide candidacy, and the decision.

    `suggestions` are what `patients.candidacy.suggest` found in the data (codes with the
    rule's version), shown with their reasons; the clinician decides. A "candidate"
    decision opens the episode.
    """

    class Decision(models.TextChoices):
        CANDIDATE = "candidate", _("Candidate")
        NOT_CANDIDATE = "not_candidate", _("Not a candidate")
        NEEDS_IMAGING = "needs_imaging", _("Needs more imaging")

    class TearType(models.TextChoices):
        PARTIAL = "partial", _("Partial-thickness tear")
        FULL = "full", _("Full-thickness tear")

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="candidacy_assessments")
    indication = models.CharField(max_length=30, choices=Indication.choices)
    site = models.CharField(max_length=20, choices=BodySite.choices)
    side = models.CharField(max_length=10, choices=Side.choices)
    kellgren_lawrence_grade = models.PositiveSmallIntegerField(
        _("Kellgren-Lawrence grade"), null=True, blank=True, choices=[(g, str(g)) for g in range(5)]
    )
    tear_type = models.CharField(max_length=10, choices=TearType.choices, blank=True)
    sprain_grade = models.PositiveSmallIntegerField(
        _("sprain grade"), null=True, blank=True, choices=[(1, "I"), (2, "II"), (3, "III")]
    )
    # Codes of `patients.candidacy.CONSERVATIVE_CARE` the patient tried without lasting relief.
    failed_conservative_care = models.JSONField(default=list, blank=True)
    imaging = models.CharField(_("imaging reviewed"), max_length=300, blank=True)
    decision = models.CharField(max_length=15, choices=Decision.choices)
    reason = models.TextField(_("reason for the decision"))
    suggestions = models.JSONField(default=list, blank=True)
    suggestions_version = models.CharField(max_length=20, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)
    episode = models.OneToOneField(Episode, null=True, blank=True, on_delete=models.PROTECT, related_name="candidacy")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-decided_at"]

    def __str__(self) -> str:
        return f"Candidacy {self.uuid}: {self.get_decision_display()}"

    def clean(self) -> None:
        if self.kellgren_lawrence_grade is not None and self.indication != Indication.OSTEOARTHRITIS:
            raise ValidationError({"kellgren_lawrence_grade": _("A Kellgren-Lawrence grade is for osteoarthritis.")})
        if self.sprain_grade is not None and self.indication != Indication.KNEE_LIGAMENT:
            raise ValidationError({"sprain_grade": _("A sprain grade is for a ligament sprain or tear.")})
        if not (self.reason or "").strip():
            raise ValidationError({"reason": _("Please give the reason for the decision.")})


class ConsentDocument(models.Model):
    """One published version of the consent text in one language. Published versions never change.

    Staff write a new version to change the text (`patients.consent.document_publish`);
    a signature stays bound to the version (and the exact text) it was made on.
    """

    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        SPANISH = "es", _("Spanish")

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    language = models.CharField(max_length=2, choices=Language.choices)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown: the procedure, its risks, alternatives including surgery.")
    include_regulatory_notice = models.BooleanField(default=True)
    requires_witness = models.BooleanField(default=False)
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["language", "-version"]
        constraints = [models.UniqueConstraint(fields=["language", "version"], name="consent_document_one_per_version")]

    def __str__(self) -> str:
        return f"{self.title} v{self.version} ({self.language})"


class ConsentSignature(models.Model):
    """A patient's signature on one consent version for one episode, bound to the exact text signed.

    `rendered_text` is the text as shown when signing (the document, the regulatory
    notice where the practice turns it on, the statement of meaning); `text_sha256` its
    SHA-256; `pdf` the archived PDF and `pdf_sha256` its own. Rows are never changed
    after signing, except to record a withdrawal (`withdrawn_*`).
    """

    class Method(models.TextChoices):
        IN_OFFICE = "in_office", _("Signed in the office")
        REMOTE = "remote", _("Signed remotely from a link")

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="consents")
    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="signatures")
    printed_name = models.CharField(max_length=160)
    signature_png = models.TextField(help_text="The drawn signature as a PNG, base64.")
    meaning = models.CharField(max_length=300, help_text="What the signature means, as the patient saw it.")
    rendered_text = models.TextField()
    text_sha256 = models.CharField(max_length=64)
    method = models.CharField(max_length=10, choices=Method.choices)
    signed_at = models.DateTimeField()
    witness_name = models.CharField(max_length=160, blank=True)
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    pdf = models.BinaryField()
    pdf_sha256 = models.CharField(max_length=64)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)
    withdrawn_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-signed_at"]

    def __str__(self) -> str:
        return f"Consent {self.uuid} ({self.document})"

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None
