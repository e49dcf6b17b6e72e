"""The same-surgical-procedure exception's guardrails, against worked examples of a day at the office."""

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from procedures.guardrails import (
    ALLOWED_AGENTS,
    MAX_VISIT,
    Facts,
    InjectionFacts,
    check,
    elapsed_label,
    same_label,
)

LA = ZoneInfo("America/Los_Angeles")
DAY = date(2031, 3, 5)


def at(hhmm: str, day: date = DAY) -> datetime:
    hours, minutes = (int(p) for p in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=LA)


def injection(hhmm: str = "10:10", *, number: int = 1, label: str = "A-1", **kwargs: Any) -> InjectionFacts:
    return InjectionFacts(number=number, injected_at=at(hhmm), sample_label=label, **kwargs)


def facts(**changes: Any) -> Facts:
    values: dict[str, Any] = {
        "procedure_date": DAY,
        "zone": LA,
        "identifiers_checked": 2,
        "harvest_started_at": at("09:15"),
        "harvest_ended_at": at("09:35"),
        "harvest_label": "A-1",
        "cultured_or_expanded": False,
        "added_agents": ["acd_a", "heparin", "saline"],
        "anticoagulants": ["acd_a", "heparin"],
        "activation": "none",
        "injections": [injection(carrier="none", activation_agent="none")],
    }
    values.update(changes)
    return Facts(**values)


def codes(found: Any) -> list[str]:
    return [finding.code for finding in found]


def test_a_same_day_visit_has_no_breach_and_shows_the_elapsed_time() -> None:
    result = check(facts())
    assert (result.breaches, result.unchecked, result.ok) == ((), (), True)
    assert result.elapsed is not None
    assert (result.elapsed, elapsed_label(result.elapsed)) == (timedelta(minutes=35), "35 min")


def test_the_elapsed_time_is_to_the_first_injection_whatever_the_order_given() -> None:
    result = check(facts(injections=[injection("11:40", number=1), injection("09:50", number=2)]))
    assert result.elapsed is not None
    assert (result.elapsed, elapsed_label(result.elapsed)) == (timedelta(minutes=15), "15 min")


def test_elapsed_labels_read_in_hours_and_minutes() -> None:
    assert [elapsed_label(timedelta(minutes=m)) for m in (0, 59, 60, 85, 240)] == [
        "0 min",
        "59 min",
        "1 h 0 min",
        "1 h 25 min",
        "4 h 0 min",
    ]
    assert elapsed_label(timedelta(minutes=-10)) == "-10 min"


def test_a_harvest_on_another_day_is_a_breach() -> None:
    result = check(
        facts(harvest_started_at=at("09:15", date(2031, 3, 4)), harvest_ended_at=at("09:35", date(2031, 3, 4)))
    )
    assert next(f.message for f in result.breaches) == (
        "The harvest is recorded on March 4, 2031, not on the procedure date, March 5, 2031."
    )


def test_an_injection_the_next_day_is_a_breach() -> None:
    late = InjectionFacts(number=1, injected_at=at("09:00", date(2031, 3, 6)), sample_label="A-1")
    assert codes(check(facts(injections=[late])).breaches) == ["injection_day", "visit_length"]


def test_the_day_is_the_offices_day_not_utcs() -> None:
    # 23:30 in Los Angeles is 07:30 UTC the next day: still the same local day.
    result = check(facts(harvest_started_at=at("22:30"), harvest_ended_at=at("22:50"), injections=[injection("23:30")]))
    assert result.breaches == ()


def test_an_injection_before_the_harvest_ended_is_a_breach() -> None:
    result = check(facts(injections=[injection("09:30")]))
    assert [f.message for f in result.breaches] == ["Injection 1 is recorded before the harvest ended."]
    assert result.elapsed is not None
    assert elapsed_label(result.elapsed) == "-5 min"


def test_exactly_the_longest_visit_is_allowed_and_a_minute_more_is_not() -> None:
    limit = at("09:15") + MAX_VISIT
    on_time = InjectionFacts(number=1, injected_at=limit, sample_label="A-1")
    late = InjectionFacts(number=1, injected_at=limit + timedelta(minutes=1), sample_label="A-1")
    assert check(facts(injections=[on_time])).breaches == ()
    assert [f.message for f in check(facts(injections=[late])).breaches] == [
        "Injection 1 is 4 h 1 min after the harvest started: more than 4 h 0 min, so it is not the same visit."
    ]


def test_a_label_mismatch_names_both_labels() -> None:
    result = check(facts(injections=[injection(label="A-1"), injection("10:20", number=2, label="B-7")]))
    assert [f.message for f in result.breaches] == [
        "The sample label at injection 2 (B-7) does not match the label recorded at the harvest (A-1)."
    ]


def test_labels_match_whatever_the_case_and_surrounding_spaces() -> None:
    assert same_label(" a-1 ", "A-1") is True
    assert same_label("A-1", "A-l") is False
    assert check(facts(injections=[injection(label="  a-1")])).breaches == ()


def test_cultured_or_expanded_cells_are_a_breach() -> None:
    assert [f.message for f in check(facts(cultured_or_expanded=True)).breaches] == [
        "The cells are recorded as cultured or expanded: that is not a same-day product."
    ]


def test_every_allowed_agent_passes() -> None:
    assert check(facts(added_agents=sorted(ALLOWED_AGENTS))).breaches == ()


def test_an_agent_off_the_list_is_a_breach_named_in_words() -> None:
    result = check(facts(added_agents=["saline", "hyaluronic_acid", "Dexamethasone 4 mg"]))
    assert [f.message for f in result.breaches] == [
        "Added to the product but not on the practice's allowed list: Dexamethasone 4 mg, hyaluronic acid."
    ]


def test_activation_with_thrombin_is_a_breach() -> None:
    assert codes(check(facts(activation="thrombin")).breaches) == ["activation"]
    assert check(facts(activation="calcium_chloride")).breaches == ()


def test_an_injection_carried_in_hyaluronic_acid_or_activated_with_thrombin_is_a_breach() -> None:
    result = check(facts(injections=[injection(carrier="hyaluronic_acid", activation_agent="thrombin")]))
    assert [f.message for f in result.breaches] == [
        "Injection 1 was given in hyaluronic acid, which is not on the practice's allowed list.",
        "Injection 1 was activated with thrombin, which is not on the practice's allowed list.",
    ]


def test_what_is_not_recorded_yet_is_unchecked_not_a_breach() -> None:
    result = check(
        facts(
            identifiers_checked=1,
            harvest_started_at=None,
            harvest_label="",
            injections=[InjectionFacts(number=1, injected_at=None, sample_label="")],
        )
    )
    assert result.breaches == ()
    assert codes(result.unchecked) == ["identity", "harvest_time", "harvest_label", "injection_time", "injection_label"]
    assert (result.ok, result.elapsed) == (False, None)


def test_no_injection_yet_is_unchecked() -> None:
    result = check(facts(injections=[]))
    assert (codes(result.unchecked), result.breaches, result.elapsed) == (["injection"], (), None)


def test_a_harvest_ending_before_it_started_is_a_breach() -> None:
    assert "harvest_order" in codes(check(facts(harvest_ended_at=at("09:00"))).breaches)


@pytest.mark.parametrize("anticoagulant", ["acd_a", "heparin", "sodium_citrate", "none", ""])
def test_the_record_anticoagulants_are_all_allowed(anticoagulant: str) -> None:
    assert check(facts(anticoagulants=[anticoagulant])).breaches == ()
