"""The questionnaire a follow-up asks, as the patient moves through it: one screen per instrument section.

A follow-up's screens are each instrument's sections in the episode's set, in order
(`services.instruments_for`), then, after treatment, one question about surgery on the
treated site since. `next_unfinished` is where a returning patient picks up. An
instrument is shown in the patient's language only where its validated text is shipped
(`Instrument.languages`); otherwise in English, and the page says why. The survey's own
words (buttons, instructions, progress) are always in both languages.
"""

from dataclasses import dataclass
from typing import Any

from django.utils import translation

from outcomes import instruments
from outcomes.instruments.base import Instrument, Item, Section
from outcomes.models import FollowUp, Timepoint
from outcomes.services import instruments_for, unanswered

SURGERY = "surgery"


@dataclass(frozen=True, slots=True)
class Screen:
    number: int
    instrument: Instrument | None
    section: Section | None

    @property
    def is_surgery(self) -> bool:
        return self.instrument is None

    def items(self) -> list[Item]:
        if self.instrument is None or self.section is None:
            return []
        return [self.instrument.item(code) for code in self.section.items]

    def language(self, wanted: str) -> str:
        """The language this screen's questions are shown in for a patient who reads `wanted`."""
        if self.instrument is None or wanted in self.instrument.languages:
            return wanted
        return "en"


def part_of(episode: Any, language: str) -> str:
    """The treated part an item asks about (SANE's "your {part}"), in the language the item is shown in."""
    with translation.override(language):
        return str(episode.get_site_display()).lower()


def screens(follow_up: FollowUp) -> list[Screen]:
    """Every screen of the follow-up's questionnaire, numbered from 1."""
    found: list[Screen] = []
    for code in instruments_for(follow_up.episode, follow_up.timepoint):
        defined = instruments.get(code)
        for section in defined.sections:
            found.append(Screen(number=len(found) + 1, instrument=defined, section=section))
    if follow_up.timepoint != Timepoint.BASELINE:
        found.append(Screen(number=len(found) + 1, instrument=None, section=None))
    return found


def is_finished(screen: Screen, answers: dict[str, dict[str, object]], follow_up: FollowUp) -> bool:
    """Whether every required question of `screen` has an answer (`answers`: instrument → item → code)."""
    if screen.instrument is None:
        return follow_up.surgery_reported is not None
    given = answers.get(screen.instrument.code, {})
    return not unanswered(screen.instrument.code, [item.code for item in screen.items()], given)


def answers_of(follow_up: FollowUp) -> dict[str, dict[str, object]]:
    return {response.instrument: dict(response.answers) for response in follow_up.responses.all()}


def next_unfinished(follow_up: FollowUp, all_screens: list[Screen]) -> Screen | None:
    answers = answers_of(follow_up)
    return next((s for s in all_screens if not is_finished(s, answers, follow_up)), None)
