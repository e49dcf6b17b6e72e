"""Staff users, their roles, and the audit log."""

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    FRONT_DESK = "front_desk", _("Front desk")
    PHYSICIAN = "physician", _("Physician")
    PHYSICIAN_ASSISTANT = "pa", _("Physician assistant")
    TECHNICIAN = "technician", _("Processing technician")
    MANAGER = "manager", _("Practice manager")
    RESEARCHER = "researcher", _("Researcher")
    ADMIN = "admin", _("Administrator")


class User(AbstractUser):
    """A member of staff. Patients never sign in with this model."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.FRONT_DESK)

    class Meta:
        ordering = ["last_name", "first_name", "username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class AuditEvent(models.Model):
    """One read, change, export, signature or refused attempt on protected information.

    Who (`actor` and the `role` they acted in), what (`action` on `object_type` named by
    its public id in `object_ref`), whose (`patient`, a reference), when, from where,
    and whether it was allowed. Written through `accounts.audit.audit_record`, inside the
    transaction of the change it records. Rows are only ever added, and the log itself
    carries no health information.
    """

    class Action(models.TextChoices):
        VIEW = "view", "view"
        CREATE = "create", "create"
        CHANGE = "change", "change"
        DELETE = "delete", "delete"
        EXPORT = "export", "export"
        SIGN = "sign", "sign"
        SIGN_IN = "sign_in", "sign in"
        SIGN_IN_FAILED = "sign_in_failed", "sign-in failed"
        # Too many failed sign-ins for a username or from an address (django-axes): sign-in refused for a while.
        LOCKED_OUT = "locked_out", "locked out"
        # A member of staff ended one of their sessions, or all of them (`accounts.sessions`).
        SESSION_ENDED = "session_ended", "session ended"
        # The second step of sign-in (`accounts.mfa`): a right or wrong code, an authenticator set up,
        # new recovery codes, an authenticator removed by an administrator.
        MFA_VERIFIED = "mfa_verified", "second step passed"
        MFA_FAILED = "mfa_failed", "second step failed"
        MFA_ENROLLED = "mfa_enrolled", "authenticator set up"
        MFA_CODES = "mfa_codes", "new recovery codes"
        MFA_RESET = "mfa_reset", "authenticator removed"

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", "allowed"
        DENIED = "denied", "denied"
        # Outside the role's normal access, opened under a break-glass grant (`accounts.break_glass`).
        BREAK_GLASS = "breakglass", "allowed by break-glass"

    id = models.BigAutoField(primary_key=True)
    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(max_length=20, blank=True, help_text="The actor's role when they acted; empty for none.")
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=60)
    object_ref = models.CharField(max_length=64, blank=True)
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events"
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.ALLOWED)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    # The hash chain (accounts.audit): each row's place in the log, the hash of the row before it,
    # and its own hash over its content and that one. `manage.py verify_audit` recomputes them.
    seq = models.BigIntegerField(unique=True, null=True, editable=False)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    row_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_ref"]),
            models.Index(fields=["patient", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_id} {self.action} {self.object_type}:{self.object_ref}"


class AuditPatient(models.Model):
    """A patient one audit row concerns among several: each patient an identified export holds.

    An export writes one audit row (`AuditEvent.patient` names one patient at most); these
    rows, written in its transaction, put it in each of those patients' access reports.
    Only ever added. `event_uuid` is `AuditEvent.uuid` rather than a foreign key, so no
    constraint of another table ever holds rows of the append-only log.
    """

    event_uuid = models.UUIDField(help_text="The public id of the audit row.")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["patient", "event_uuid"], name="audit_patient_once")]

    def __str__(self) -> str:
        return f"Audit row {self.event_uuid} concerns patient {self.patient_id}"


class PatientLink(models.Model):
    """A random, expiring, single-use link that lets a patient open one thing (intake, consent, a questionnaire).

    Only the SHA-256 of the token is stored; the token (at least 128 random bits) lives
    in the email alone. The first visit uses it up and swaps it for a short patient
    session; a second visit with the same link is refused (410), as is one past
    `expires_at`. Nothing about health is in the URL: the token names the link, the
    link names what it opens.
    """

    class Purpose(models.TextChoices):
        INTAKE = "intake", _("Intake before the consultation")
        CONSENT = "consent", _("Consent to sign")
        QUESTIONNAIRE = "questionnaire", _("Follow-up questionnaire")

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="links")
    # The public id of what it opens (an intake, an episode's consent, a questionnaire invitation).
    target = models.CharField(max_length=64)
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["purpose", "target"])]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} link {self.uuid}"


class StaffSession(models.Model):
    """One signed-in session of a member of staff, as the session list shows it (`accounts.sessions`).

    The session itself lives in the session store (`SESSION_ENGINE`); this row keeps what
    a person needs to recognise it: when it started, when it was last used (to within the
    staff session's 30 seconds), the browser and the address. Ending a session deletes it
    from the store and this row with it.
    """

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    user_agent = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen_at", "-id"]

    def __str__(self) -> str:
        return f"session {self.uuid} of {self.user_id}"


class BreakGlassGrant(models.Model):
    """A clinician's stated reason to open one patient's records beyond their role, for 60 minutes.

    While it lasts (`granted_at` to `expires_at`), the policy (`accounts.access`) lets the
    clinician read the kinds of record `BREAK_GLASS_RECORDS` names for this patient, and
    every such read is an audit row with the outcome "breakglass"; the practice manager
    reads every grant and the accesses made under it (`accounts.views.break_glass_list`).
    """

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="break_glass_grants")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="break_glass_grants")
    reason = models.TextField()
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-granted_at", "-id"]
        indexes = [models.Index(fields=["user", "patient", "expires_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("granted_at")), name="break_glass_ends_after_it_starts"
            ),
            models.CheckConstraint(condition=~models.Q(reason=""), name="break_glass_has_a_reason"),
        ]

    def __str__(self) -> str:
        return f"break-glass {self.uuid}"
