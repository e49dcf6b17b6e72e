"""The same-surgical-procedure exception's conditions, checked on one procedure record. Pure: no database.

21 CFR 1271.15(b) exempts an establishment that "removes HCT/P's from an individual and
implants such HCT/P's into the same individual during the same surgical procedure". FDA's
guidance on it (Same Surgical Procedure Exception under 21 CFR 1271.15(b): Questions and
Answers, November 2017) reads that as: the same patient, the same procedure (typically a
single operation, not cells kept for a later visit), and the cells no more than rinsed,
cleansed, sized or shaped. What the record can prove of that, and what `check` asks:

- the harvest and every injection on the record's procedure date, in the office's zone;
- the harvest over (needle removed) before the first injection, and the whole of it, from the
  start of the harvest to the last injection, within `MAX_VISIT`;
- the sample label scanned or typed at the harvest equal to the label at each injection;
- the patient confirmed at the time-out with two identifiers (the same person at both ends);
- the cells not cultured or expanded;
- nothing added beyond `ALLOWED_AGENTS` (anticoagulants, calcium to activate, saline), and
  carriers only from `ALLOWED_CARRIERS`.

`MAX_VISIT` is 4 hours. The regulation and the guidance give no number: "the same surgical
procedure" is one sitting. The practice's procedure visit is booked for 150 minutes plus a
30-minute buffer (scheduling's "Procedure visit"), and a BMAC/PRP harvest, spin and injection
takes about 60-90 minutes, so 4 hours is the whole booked visit with an hour to spare for a
slow day; anything longer means the cells waited outside the visit, which is the thing the
exception does not cover.

Each finding is a plain sentence for the record page and the sign-off page. A *breach* is a
condition the record shows broken; *unchecked* is a condition the record cannot yet show
(a time or a label not recorded). Sign-off waits for both lists to be empty: the exception's
conditions are the law's, not the practice's, so nobody can override them.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MAX_VISIT = timedelta(hours=4)
TWO_IDENTIFIERS = 2

# What may be added to the cells or the PRP, by the codes the record stores:
# - anticoagulants keep the aspirate and the blood from clotting until they are spun: without them
#   there is no product at all, and they are what every BMAC/PRP kit is cleared for;
# - calcium chloride or gluconate reverses the citrate to activate platelets: an ion, not a drug
#   or a biologic (thrombin, often bovine, is a biologic, and is left out);
# - saline rinses and dilutes: 21 CFR 1271.10(a)(3) names water and crystalloids as the only
#   articles cells may be combined with and stay minimally manipulated.
# Anything else (hyaluronic acid, steroids, antibiotics, growth factors, enzymes) is a drug or
# device combined with the cells, outside the exception.
ANTICOAGULANTS = ("acd_a", "heparin", "sodium_citrate")
ACTIVATORS = ("calcium_chloride", "calcium_gluconate")
SALINE = "saline"
ALLOWED_AGENTS = frozenset({*ANTICOAGULANTS, *ACTIVATORS, SALINE})
NONE = "none"
# What an injection may carry the product in: nothing, saline, or the patient's own plasma.
ALLOWED_CARRIERS = frozenset({NONE, SALINE, "autologous_prp", "autologous_ppp"})

AGENT_LABELS = {
    "acd_a": gettext_lazy("ACD-A"),
    "heparin": gettext_lazy("heparin"),
    "sodium_citrate": gettext_lazy("sodium citrate"),
    "calcium_chloride": gettext_lazy("calcium chloride"),
    "calcium_gluconate": gettext_lazy("calcium gluconate"),
    "saline": gettext_lazy("saline"),
    "thrombin": gettext_lazy("thrombin"),
    "hyaluronic_acid": gettext_lazy("hyaluronic acid"),
    "corticosteroid": gettext_lazy("a corticosteroid"),
    "antibiotic": gettext_lazy("an antibiotic"),
    "growth_factor": gettext_lazy("a growth factor"),
    "autologous_prp": gettext_lazy("the patient's own PRP"),
    "autologous_ppp": gettext_lazy("the patient's own platelet-poor plasma"),
    "other": gettext_lazy("another agent"),
}


def agent_label(code: str) -> str:
    """How an agent reads in a sentence: its name if known, else what was typed."""
    return str(AGENT_LABELS.get(code, code))


@dataclass(frozen=True, slots=True)
class InjectionFacts:
    """What the guardrails need of one injection."""

    number: int  # 1, 2, ... in the order given
    injected_at: datetime | None
    sample_label: str
    carrier: str = ""
    activation_agent: str = ""


@dataclass(frozen=True, slots=True)
class Facts:
    """What the guardrails need of one record."""

    procedure_date: date
    zone: ZoneInfo
    identifiers_checked: int
    harvest_started_at: datetime | None
    harvest_ended_at: datetime | None
    harvest_label: str
    cultured_or_expanded: bool
    added_agents: Sequence[str] = ()
    anticoagulants: Sequence[str] = ()
    activation: str = ""
    injections: Sequence[InjectionFacts] = ()


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Check:
    """The breaches found, what cannot be checked yet, and the time from the harvest's end to the first injection."""

    breaches: tuple[Finding, ...] = field(default_factory=tuple)
    unchecked: tuple[Finding, ...] = field(default_factory=tuple)
    elapsed: timedelta | None = None

    @property
    def ok(self) -> bool:
        return not self.breaches and not self.unchecked

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.breaches + self.unchecked


def same_label(a: str, b: str) -> bool:
    """Labels as people type them: surrounding spaces and letter case do not make another sample."""
    return a.strip().casefold() == b.strip().casefold()


def elapsed_label(elapsed: timedelta) -> str:
    """A span in whole minutes: "1 h 25 min", "40 min"; "-10 min" when negative (injected before the harvest ended)."""
    seconds = elapsed.total_seconds()
    sign = "-" if seconds <= -60 else ""
    hours, rest = divmod(int(abs(seconds) // 60), 60)
    if hours:
        return _("%(sign)s%(hours)d h %(minutes)d min") % {"sign": sign, "hours": hours, "minutes": rest}
    return _("%(sign)s%(minutes)d min") % {"sign": sign, "minutes": rest}


def _day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def _date(day: date) -> str:
    return formats.date_format(day, "DATE_FORMAT")


def check(facts: Facts, *, max_visit: timedelta = MAX_VISIT) -> Check:
    """Every condition of the exception the record can show, as breaches and not-yet-checkable findings."""
    breaches: list[Finding] = []
    unchecked: list[Finding] = []
    zone, day = facts.zone, facts.procedure_date

    if facts.identifiers_checked < TWO_IDENTIFIERS:
        unchecked.append(
            Finding(
                "identity", _("The patient's identity has not been confirmed with two identifiers at the time-out.")
            )
        )

    start, end = facts.harvest_started_at, facts.harvest_ended_at
    if start is None or end is None:
        unchecked.append(Finding("harvest_time", _("The harvest's start and end times are not both recorded.")))
    else:
        if end < start:
            breaches.append(Finding("harvest_order", _("The harvest is recorded as ending before it started.")))
        for moment in (start, end):
            if _day(moment, zone) != day:
                breaches.append(
                    Finding(
                        "harvest_day",
                        _("The harvest is recorded on %(day)s, not on the procedure date, %(date)s.")
                        % {"day": _date(_day(moment, zone)), "date": _date(day)},
                    )
                )
                break
    if not facts.harvest_label.strip():
        unchecked.append(Finding("harvest_label", _("No sample label was recorded at the harvest.")))

    if not facts.injections:
        unchecked.append(Finding("injection", _("No injection is recorded yet.")))
    for injection in facts.injections:
        n = injection.number
        if injection.injected_at is None:
            unchecked.append(Finding("injection_time", _("Injection %(n)d has no time.") % {"n": n}))
        else:
            when = injection.injected_at
            if _day(when, zone) != day:
                breaches.append(
                    Finding(
                        "injection_day",
                        _("Injection %(n)d is recorded on %(day)s, not on the procedure date, %(date)s.")
                        % {"n": n, "day": _date(_day(when, zone)), "date": _date(day)},
                    )
                )
            if end is not None and when < end:
                breaches.append(
                    Finding(
                        "injection_before_harvest",
                        _("Injection %(n)d is recorded before the harvest ended.") % {"n": n},
                    )
                )
            if start is not None and when - start > max_visit:
                breaches.append(
                    Finding(
                        "visit_length",
                        _(
                            "Injection %(n)d is %(elapsed)s after the harvest started: more than %(limit)s, "
                            "so it is not the same visit."
                        )
                        % {"n": n, "elapsed": elapsed_label(when - start), "limit": elapsed_label(max_visit)},
                    )
                )
        if not injection.sample_label.strip():
            unchecked.append(Finding("injection_label", _("Injection %(n)d has no sample label.") % {"n": n}))
        elif facts.harvest_label.strip() and not same_label(injection.sample_label, facts.harvest_label):
            breaches.append(
                Finding(
                    "label_mismatch",
                    _(
                        "The sample label at injection %(n)d (%(label)s) does not match the label "
                        "recorded at the harvest (%(harvest)s)."
                    )
                    % {"n": n, "label": injection.sample_label.strip(), "harvest": facts.harvest_label.strip()},
                )
            )
        if injection.carrier and injection.carrier not in ALLOWED_CARRIERS:
            breaches.append(
                Finding(
                    "carrier",
                    _("Injection %(n)d was given in %(carrier)s, which is not on the practice's allowed list.")
                    % {"n": n, "carrier": agent_label(injection.carrier)},
                )
            )
        if injection.activation_agent and injection.activation_agent not in (NONE, *ACTIVATORS):
            breaches.append(
                Finding(
                    "injection_activation",
                    _("Injection %(n)d was activated with %(agent)s, which is not on the practice's allowed list.")
                    % {"n": n, "agent": agent_label(injection.activation_agent)},
                )
            )

    if facts.cultured_or_expanded:
        breaches.append(
            Finding("cultured", _("The cells are recorded as cultured or expanded: that is not a same-day product."))
        )
    not_allowed = sorted({agent for agent in facts.added_agents if agent not in ALLOWED_AGENTS})
    if not_allowed:
        breaches.append(
            Finding(
                "agents",
                _("Added to the product but not on the practice's allowed list: %(agents)s.")
                % {"agents": ", ".join(agent_label(agent) for agent in not_allowed)},
            )
        )
    for anticoagulant in facts.anticoagulants:
        if anticoagulant and anticoagulant not in (NONE, *ANTICOAGULANTS):
            breaches.append(
                Finding(
                    "anticoagulant",
                    _("The anticoagulant %(agent)s is not on the practice's allowed list.")
                    % {"agent": agent_label(anticoagulant)},
                )
            )
    if facts.activation and facts.activation not in (NONE, *ACTIVATORS):
        breaches.append(
            Finding(
                "activation",
                _("The product was activated with %(agent)s, which is not on the practice's allowed list.")
                % {"agent": agent_label(facts.activation)},
            )
        )

    times = sorted(i.injected_at for i in facts.injections if i.injected_at is not None)
    elapsed = times[0] - end if times and end is not None else None
    return Check(breaches=tuple(breaches), unchecked=tuple(unchecked), elapsed=elapsed)
