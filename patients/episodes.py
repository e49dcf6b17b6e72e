"""Candidacy assessments and treatment episodes: the writes, and the reads the episode page shows.

`assessment_record` stores a clinician's assessment of one indication with the
suggestions `patients.candidacy.suggest` gave (recomputed here from the chart, never
taken from the form) and their version; a "candidate" decision opens the episode in the
same transaction. Both leave their audit row ("create") inside it, so a refused
assessment leaves neither a row nor an episode behind.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.audit import audit_record
from accounts.models import AuditEvent, User
from patients import candidacy
from patients.consent import ConsentRow, consent_rows
from patients.models import CandidacyAssessment, Episode, Indication, Intake, MedicalHistory, Medication, Patient
from scheduling.models import Provider

Decision = CandidacyAssessment.Decision


@dataclass(frozen=True, slots=True)
class AssessmentDetails:
    """What the clinician recorded on the assessment form."""

    indication: str
    site: str
    side: str
    decision: str
    reason: str
    kl_grade: int | None = None
    tear_type: str = ""
    sprain_grade: int | None = None
    failed_care: tuple[str, ...] = ()
    imaging: str = ""
    physician: Provider | None = None


@dataclass(frozen=True, slots=True)
class ChartFacts:
    """What the suggestions read from the chart: active medications, the medical history, the latest intake."""

    medications: list[Medication]
    history: MedicalHistory | None
    intake: Intake | None


def chart_facts(patient: Patient) -> ChartFacts:
    """Three queries: the patient's active medications, medical history and latest intake with answers."""
    return ChartFacts(
        medications=list(Medication.objects.filter(patient=patient, is_active=True).order_by("name")),
        history=MedicalHistory.objects.filter(patient=patient).first(),
        # Submitted (or reviewed) first, then the newest: an intake in progress still says what it says.
        intake=Intake.objects.filter(patient=patient)
        .order_by(F("submitted_at").desc(nulls_last=True), "-created_at")
        .first(),
    )


def assessment_suggestions(*, details: AssessmentDetails, facts: ChartFacts) -> list[candidacy.Suggestion]:
    return candidacy.suggest(
        indication=details.indication,
        kl_grade=details.kl_grade,
        tear_type=details.tear_type,
        sprain_grade=details.sprain_grade,
        failed_care=details.failed_care,
        medications=facts.medications,
        history=facts.history,
        intake=facts.intake,
    )


def default_physician(user: Any) -> Provider | None:
    """The signed-in person's own provider row, if they are an active physician."""
    provider = getattr(user, "provider", None) if getattr(user, "is_authenticated", False) else None
    if provider is not None and provider.is_active and provider.kind == Provider.Kind.PHYSICIAN:
        return provider
    return None


def _check_details(details: AssessmentDetails) -> None:
    """The rules across fields that the model's clean() does not hold."""
    errors: dict[str, Any] = {}
    if not details.reason.strip():
        errors["reason"] = _("Please give the reason for the decision.")
    if details.tear_type and details.indication != Indication.ROTATOR_CUFF:
        errors["tear_type"] = _("A tear type is for a rotator cuff tear.")
    unknown = set(details.failed_care) - candidacy.CARE_CODES
    if unknown:
        errors["failed_conservative_care"] = _("Choose from the list.")
    if details.decision == Decision.CANDIDATE:
        physician = details.physician
        if physician is None:
            errors["physician"] = _("Choose the physician who will treat this episode.")
        elif not physician.is_active or physician.kind != Provider.Kind.PHYSICIAN:
            errors["physician"] = _("Choose an active physician.")
    if errors:
        raise ValidationError(errors)


def assessment_record(
    *,
    patient: Patient,
    details: AssessmentDetails,
    by: User,
    request: Any = None,
    now: datetime | None = None,
) -> CandidacyAssessment:
    """Store the assessment (with the suggestions the chart gives now) and, for "candidate", open its episode.

    Raises ValidationError (keyed by the model's field names, plus "physician") and
    writes nothing when a rule refuses.
    """
    now = now or timezone.now()
    _check_details(details)
    suggestions = assessment_suggestions(details=details, facts=chart_facts(patient))
    assessment = CandidacyAssessment(
        patient=patient,
        indication=details.indication,
        site=details.site,
        side=details.side,
        kellgren_lawrence_grade=details.kl_grade,
        tear_type=details.tear_type,
        sprain_grade=details.sprain_grade,
        failed_conservative_care=[code for code, _label in candidacy.CONSERVATIVE_CARE if code in details.failed_care],
        imaging=details.imaging.strip(),
        decision=details.decision,
        reason=details.reason.strip(),
        suggestions=[s.as_json() for s in suggestions],
        suggestions_version=candidacy.VERSION,
        decided_by=by,
        decided_at=now,
    )
    assessment.full_clean()
    with transaction.atomic():
        if details.decision == Decision.CANDIDATE:
            assert details.physician is not None  # _check_details refused it otherwise
            episode = Episode(
                patient=patient,
                indication=details.indication,
                site=details.site,
                side=details.side,
                physician=details.physician,
                status=Episode.Status.CANDIDATE,
                opened_at=now,
                created_by=by,
                updated_by=by,
            )
            episode.full_clean()
            episode._history_user = by  # type: ignore[attr-defined]
            episode.save()
            assessment.episode = episode
        assessment._history_user = by  # type: ignore[attr-defined]
        assessment.save()
        audit_record(
            actor=by,
            action=AuditEvent.Action.CREATE,
            object_type="candidacy_assessment",
            object_ref=str(assessment.uuid),
            patient=patient,
            request=request,
        )
        if assessment.episode is not None:
            audit_record(
                actor=by,
                action=AuditEvent.Action.CREATE,
                object_type="episode",
                object_ref=str(assessment.episode.uuid),
                patient=patient,
                request=request,
            )
    return assessment


# --- Reads ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EpisodeOverview:
    """What the episode page shows: its assessment, consents with their state, procedures, adverse events."""

    episode: Episode
    assessment: CandidacyAssessment | None
    consents: list[ConsentRow]
    procedures: list[Any]
    adverse_events: list[Any]
    care: list[str] = field(default_factory=list)

    @property
    def valid_consent(self) -> ConsentRow | None:
        return next((row for row in self.consents if row.is_valid), None)


def episode_overview(*, episode: Episode) -> EpisodeOverview:
    """A fixed number of queries whatever the number of consents, procedures and events (the episode is loaded)."""
    from procedures.models import AdverseEvent, ProcedureRecord

    assessment = CandidacyAssessment.objects.filter(episode=episode).select_related("decided_by").first()
    procedures = list(ProcedureRecord.objects.filter(episode=episode).order_by("-procedure_date", "-started_at"))
    events = list(AdverseEvent.objects.filter(episode=episode).order_by("-onset_date", "-reported_at"))
    return EpisodeOverview(
        episode=episode,
        assessment=assessment,
        consents=consent_rows(episode=episode),
        procedures=procedures,
        adverse_events=events,
        care=candidacy.care_labels(assessment.failed_conservative_care) if assessment else [],
    )
