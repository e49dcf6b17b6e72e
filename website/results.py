""" "Our results": the public figures of each condition, drawn from the outcomes dashboard, suppressed, published.

`draft(indication)` computes what the public page would show from today's data:

- N treated; for each follow-up, its completeness (answered / due) and the share whose
  pain improved meaningfully (the NRS's MCID, a 30 % reduction: the one score every
  condition asks, on one scale), with its Wilson 95 % interval;
- surgery-free survival at 1 year (Kaplan-Meier) with its 95 % interval;
- the share of procedures followed by an adverse event (any, judged related, serious),
  with exact (Clopper-Pearson) 95 % intervals;
- the date the data was drawn.

**Minimum-N suppression** happens here, before anything is stored: a figure whose group
(the treated episodes, the follow-ups due or answered at a time point, those at risk at
1 year, the procedures) holds fewer than `settings.RESULTS_MIN_N` patients (20 by
default, never below 11) is not in the snapshot at all, so no page, cache or version can
show it. A physician publishes a draft as a `ResultsVersion`; the public page shows the
newest version and changes only when the next is published (`publish`).
"""

from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.access import Record
from accounts.audit import audit_record
from accounts.models import AuditEvent
from outcomes import dashboard
from outcomes.stats import Interval
from patients.models import Indication
from website.caching import bump_content_version
from website.models import ResultsVersion

ALL = dashboard.ALL
PAIN = "NRS.NRS"


def min_n() -> int:
    return max(11, int(settings.RESULTS_MIN_N))


def _share(interval: Interval | None, smallest: int) -> dict[str, Any] | None:
    """A share as the public page shows it, or None when its group is too small (or empty)."""
    if interval is None or interval.estimate is None or interval.n < smallest:
        return None
    return {"estimate": interval.estimate, "low": interval.low, "high": interval.high, "n": interval.n}


def draft(indication: str, *, today: date | None = None) -> dict[str, Any]:
    """The public figures of `indication` (or `ALL`) from today's data, already suppressed (see the module)."""
    smallest = min_n()
    figures = dashboard.headline(indication, today=today)
    snapshot: dict[str, Any] = {
        "indication": indication,
        "drawn_on": figures.drawn_on.isoformat(),
        "min_n": smallest,
        "treated": figures.treated if figures.treated >= smallest else None,
        "follow_ups": [],
        "survival_1y": None,
        "adverse_events": None,
    }
    if snapshot["treated"] is None:
        return snapshot
    pain = next((line for line in figures.changes if line.code == PAIN), None)
    pain_rows = {row.timepoint: row for row in pain.rows} if pain is not None else {}
    for row in figures.completeness:
        if row.due < smallest:
            continue
        improved = pain_rows.get(row.timepoint)
        snapshot["follow_ups"].append(
            {
                "timepoint": row.timepoint,
                "due": row.due,
                "answered": row.answered,
                "completeness": _share(row.share, smallest),
                "pain_improved": _share(improved.mcid, smallest) if improved is not None else None,
            }
        )
    one_year = figures.survival.at.get(365)
    shown = _share(one_year, smallest)
    if shown is not None:
        snapshot["survival_1y"] = shown | {"events": figures.survival.events}
    safety = {row.code: row.share for row in figures.safety}
    procedures = next(iter(safety.values())).n if safety else 0
    if procedures >= smallest:
        snapshot["adverse_events"] = {
            "procedures": procedures,
            "any": _share(safety["any"], smallest),
            "related": _share(safety["related"], smallest),
            "serious": _share(safety["serious"], smallest),
        }
    return snapshot


def conditions() -> list[tuple[str, str]]:
    """Every condition a version can be published for: each indication, then all together."""
    return [*((code, str(label)) for code, label in Indication.choices), (ALL, "All conditions together")]


@transaction.atomic
def publish(*, indication: str, by: Any, now: datetime | None = None, request: Any = None) -> ResultsVersion:
    """Publish today's draft of `indication` as the new public version, with who and when; one audit row."""
    if indication != ALL and indication not in Indication.values:
        raise ValueError(f"unknown indication {indication!r}")
    now = now or timezone.now()
    figures = draft(indication, today=timezone.localdate(now))
    version = ResultsVersion.objects.create(
        indication=indication,
        figures=figures,
        drawn_on=date.fromisoformat(figures["drawn_on"]),
        min_n=figures["min_n"],
        published_at=now,
        published_by=by,
    )
    audit_record(
        actor=by,
        action=AuditEvent.Action.CHANGE,
        object_type=str(Record.PUBLIC_RESULTS),
        object_ref=f"results:{indication or 'all'}:{version.pk}",
        request=request,
    )
    transaction.on_commit(bump_content_version)
    return version


def current() -> dict[str, ResultsVersion]:
    """The newest published version of each condition that has one (one query)."""
    found: dict[str, ResultsVersion] = {}
    for version in ResultsVersion.objects.order_by("indication", "-published_at", "-pk"):
        found.setdefault(version.indication, version)
    return found
