"""Reads of the outcomes app: an episode's scores over time and what they mean; what is due next.

`episode_progress` gathers, in a fixed number of queries, each score of the episode at
every time point with its change from baseline, whether that change is meaningful
(the instrument's MCID, with its published source), whether the score reaches the PASS
where one is published, and, for osteoarthritis, the OMERACT-OARSI responder status.

OMERACT-OARSI needs pain, function and the patient's global assessment on 0-100 scales
(`outcomes.responders`); here pain is the NRS, function the region instrument's
daily-living score (KOOS or HOOS ADL, FAOS ADL, ODI, LEFS, ASES), and the global
assessment SANE reversed (100 - SANE: worse is higher). Where one is not asked, the
responder status is computed from the other two or stays unknown.
"""

from dataclasses import dataclass, field
from datetime import date

from outcomes import instruments, responders
from outcomes.instruments.base import ScoreDefinition
from outcomes.models import FollowUp, Score, SurgeryConversion, Timepoint
from patients.models import Episode, Indication

ORDER = [choice for choice, _label in Timepoint.choices]
# The score OMERACT-OARSI reads as "function", by instrument, in order of preference.
FUNCTION_SCORES = (
    ("KOOS", "ADL"),
    ("HOOS", "ADL"),
    ("FAOS", "ADL"),
    ("ODI", "ODI"),
    ("LEFS", "LEFS"),
    ("ASES", "ASES"),
)


@dataclass(frozen=True, slots=True)
class Point:
    timepoint: str
    label: str
    target_date: date
    value: float | None
    reason: str
    change: float | None
    meaningful: bool | None
    reaches_pass: bool | None


@dataclass(slots=True)
class Series:
    """One score of one instrument across the episode's follow-ups."""

    instrument: str
    definition: ScoreDefinition
    points: list[Point] = field(default_factory=list)

    @property
    def code(self) -> str:
        return f"{self.instrument}.{self.definition.code}"

    @property
    def baseline(self) -> float | None:
        for point in self.points:
            if point.timepoint == Timepoint.BASELINE:
                return point.value
        return None

    @property
    def latest(self) -> Point | None:
        later = [p for p in self.points if p.timepoint != Timepoint.BASELINE and p.value is not None]
        return later[-1] if later else None


@dataclass(slots=True)
class Progress:
    episode: Episode
    follow_ups: list[FollowUp]
    series: list[Series]
    next_due: FollowUp | None
    surgery: SurgeryConversion | None
    procedure_date: date | None
    responder: dict[str, bool | None] = field(default_factory=dict)


def _definition(instrument: str, code: str) -> ScoreDefinition | None:
    try:
        defined = instruments.get(instrument)
    except KeyError:
        return None
    return next((d for d in defined.scores if d.code == code), None)


def episode_progress(episode: Episode) -> Progress:
    """The episode's scores over time and what they mean (see the module). Three queries."""
    follow_ups = sorted(episode.follow_ups.all(), key=lambda f: ORDER.index(f.timepoint))
    labels = dict(Timepoint.choices)
    dates = {f.timepoint: f.target_date for f in follow_ups}
    found: dict[tuple[str, str], dict[str, Score]] = {}
    for score in Score.objects.filter(episode=episode).order_by("pk"):
        found.setdefault((score.instrument, score.code), {})[score.timepoint] = score
    series = []
    for (instrument, code), by_time in found.items():
        definition = _definition(instrument, code)
        if definition is None:
            continue
        line = Series(instrument=instrument, definition=definition)
        base = by_time.get(Timepoint.BASELINE)
        base_value = base.value if base is not None else None
        for timepoint in ORDER:
            found_score = by_time.get(timepoint)
            if found_score is None:
                continue
            score = found_score
            after = timepoint != Timepoint.BASELINE
            line.points.append(
                Point(
                    timepoint=timepoint,
                    label=str(labels[timepoint]),
                    target_date=dates.get(timepoint, score.computed_at.date()),
                    value=score.value,
                    reason=score.reason,
                    change=responders.change(base_value, score.value) if after else None,
                    meaningful=responders.meaningful_improvement(definition, base_value, score.value)
                    if after
                    else None,
                    reaches_pass=responders.reaches_pass(definition, score.value),
                )
            )
        series.append(line)
    series.sort(
        key=lambda s: (s.instrument, [d.code for d in instruments.get(s.instrument).scores].index(s.definition.code))
    )
    surgery = SurgeryConversion.objects.filter(episode=episode).first()
    open_or_later = [f for f in follow_ups if f.status in (FollowUp.Status.OPEN, FollowUp.Status.SCHEDULED)]
    treated = next((f for f in follow_ups if f.timepoint == Timepoint.BASELINE), None)
    progress = Progress(
        episode=episode,
        follow_ups=follow_ups,
        series=series,
        next_due=open_or_later[0] if open_or_later else None,
        surgery=surgery,
        procedure_date=treated.target_date if treated is not None and len(follow_ups) > 1 else None,
    )
    if episode.indication == Indication.OSTEOARTHRITIS:
        progress.responder = _omeract(series, [f.timepoint for f in follow_ups if f.timepoint != Timepoint.BASELINE])
    return progress


def _values(series: list[Series], instrument: str, code: str) -> dict[str, float | None] | None:
    for line in series:
        if line.instrument == instrument and line.definition.code == code:
            return {p.timepoint: responders.to_omeract_scale(line.definition, p.value) for p in line.points}
    return None


def _omeract(series: list[Series], timepoints: list[str]) -> dict[str, bool | None]:
    """OMERACT-OARSI responder status at each follow-up (see the module for the domains used)."""
    pain = _values(series, "NRS", "NRS") or {}
    function = next((v for i, c in FUNCTION_SCORES if (v := _values(series, i, c)) is not None), {})
    sane = _values(series, "SANE", "SANE") or {}
    base = Timepoint.BASELINE
    return {
        timepoint: responders.omeract_oarsi_responder(
            pain_baseline=pain.get(base),
            pain_follow_up=pain.get(timepoint),
            function_baseline=function.get(base),
            function_follow_up=function.get(timepoint),
            global_baseline=sane.get(base),
            global_follow_up=sane.get(timepoint),
        )
        for timepoint in timepoints
    }
