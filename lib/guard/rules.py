"""What the guard decides about a message, from the vocabularies' matches (see `lib.guard`)."""

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from lib.guard.dates import DATE_PART, has_old_date
from lib.guard.text import Message, Word, split
from lib.guard.vocabulary import LEXICON, Span


class Signal(StrEnum):
    """A kind of medical content. The order here is the order `medical_signals` reports."""

    SYMPTOM = "symptom"
    DIAGNOSIS = "diagnosis"
    MEDICATION = "medication"
    BODY_PAIN = "body_pain"
    BIRTH_DATE = "birth_date"
    TEST_RESULT = "test_result"
    PROCEDURE = "procedure"


# The warning signs, in the order `Assessment.urgent_signs` names them.
URGENT_SIGNS = ("fever", "site_redness", "spreading_pain", "new_numbness", "new_weakness", "chest_pain", "breathing")


@dataclass(frozen=True)
class Assessment:
    """What the guard found in one message."""

    signals: tuple[Signal, ...]
    medical: bool
    urgent: bool
    urgent_signs: tuple[str, ...]


NOTHING = Assessment(signals=(), medical=False, urgent=False, urgent_signs=())

# How many words may separate a body part from a pain word, or a birth word from a date.
_BODY_PAIN_WINDOW = 6
_BIRTH_DATE_WINDOW = 8
# Redness this close to a body part or a treated site; a spreading sign this close to pain.
_SITE_WINDOW = 8
_SPREADING_WINDOW = 6
# A negation this many words before a warning sign, in its clause, cancels it ("no fever or redness").
_NEGATION_WINDOW = 3
_DOSE = re.compile(r"\b\d+(?:[.,]\d+)?\s?(?:mg|mcg|milligrams?|miligramos?)\b")


def _covered(spans: Iterable[Span]) -> set[int]:
    return {index for first, last in spans for index in range(first, last + 1)}


def _near(one: list[Span], other: list[Span], window: int) -> bool:
    """True if a span of one is at most window words away from a span of other."""
    if not one or not other:
        return False
    covered = _covered(other)
    return any(not covered.isdisjoint(range(first - window, last + window + 1)) for first, last in one)


def _is_name(words: list[Word], index: int, intro_ends: set[int]) -> bool:
    """True if 'dolores' at index is a first name: after "me llamo", "this is"..., or written as one."""
    if index - 1 in intro_ends:
        return True
    word = words[index]
    if not word.titlecase:
        return False
    after = words[index + 1] if index + 1 < len(words) else None
    if after is not None and after.sentence == word.sentence and after.titlecase:
        return True  # "Dolores Ruiz"
    return index > 0 and words[index - 1].sentence == word.sentence  # capitalised mid-sentence


def _matches(text: str) -> tuple[Message, dict[str, list[Span]]]:
    """The message's words and every vocabulary match, benign phrases and names blanked out first."""
    message = split(text)
    words = message.words
    for word in words:
        LEXICON.prepare(word)
    blanked: set[int] = set()
    benign = LEXICON.find(words, blanked, benign=True)
    blanked |= _covered(benign.get("benign:phrases", []))
    intro_ends = {last for _, last in benign.get("benign:name_intro", [])}
    blanked |= {
        index for index, word in enumerate(words) if word.text == "dolores" and _is_name(words, index, intro_ends)
    }
    return message, LEXICON.find(words, blanked)


def _framed(message: Message, found: dict[str, list[Span]]) -> set[int]:
    """Words in a question about the practice's services (from its first word to the sentence's end)."""
    words = message.words
    sentence_end: dict[int, int] = {word.sentence: index for index, word in enumerate(words)}
    last_advice: dict[int, int] = {}
    for first, _ in found.get("service_frames:advice", []):
        last_advice[words[first].sentence] = max(first, last_advice.get(words[first].sentence, -1))
    last_personal: dict[int, int] = {}
    for first, _ in found.get("personal", []):
        last_personal[words[first].sentence] = max(first, last_personal.get(words[first].sentence, -1))
    frame_starts: dict[int, int] = {}  # the first frame of each sentence that stays a service question
    for first, last in found.get("service_frames:frames", []):
        sentence = words[first].sentence
        if sentence in frame_starts or last_advice.get(sentence, -1) >= first:
            continue  # "is fever a side effect" asks for a clinician's answer
        if last_personal.get(sentence, -1) > last:
            continue  # "do you treat my arthritis" is about the writer
        frame_starts[sentence] = first
    return {index for sentence, first in frame_starts.items() for index in range(first, sentence_end[sentence] + 1)}


def _signals(message: Message, found: dict[str, list[Span]], skip: set[int]) -> list[Signal]:
    """The signals the matches make, leaving out matches that start at a word in skip."""

    def spans(*categories: str) -> list[Span]:
        return [span for category in categories for span in found.get(category, []) if span[0] not in skip]

    weak = spans("weak_signs")
    named, after, context = spans("procedures:named"), spans("procedures:after"), spans("procedures:context")
    about_procedure = bool(named or after or context)
    problem = bool(weak or spans("symptoms", "pain_words", "body_parts", "conditions", "procedures:problem"))
    words = message.words
    starts = [word.start for word in words]
    dates = []
    for match in DATE_PART.finditer(message.plain):
        first = max(bisect_right(starts, match.start()) - 1, 0)
        dates.append((first, max(bisect_right(starts, match.end() - 1) - 1, first)))
    found_signals = {
        Signal.SYMPTOM: bool(spans("symptoms")) or (bool(weak) and about_procedure),
        Signal.DIAGNOSIS: bool(spans("conditions")),
        Signal.MEDICATION: bool(spans("medications")) or _DOSE.search(message.plain) is not None,
        Signal.BODY_PAIN: _near(spans("body_parts"), spans("pain_words", "weak_signs"), _BODY_PAIN_WINDOW),
        Signal.BIRTH_DATE: has_old_date(message.plain) or _near(spans("birth_words"), dates, _BIRTH_DATE_WINDOW),
        Signal.TEST_RESULT: bool(spans("tests")),
        Signal.PROCEDURE: bool(named) or (bool(after) and problem),
    }
    return [signal for signal in Signal if found_signals[signal]]


def _urgent_signs(message: Message, found: dict[str, list[Span]]) -> tuple[str, ...]:
    """The warning signs the message reports as happening now (see `lib.guard` for the rules)."""
    words = message.words

    def spans(*categories: str) -> list[Span]:
        return [span for category in categories for span in found.get(category, [])]

    hypothetical = {words[first].sentence for first, _ in spans("urgent:hypothetical")}
    reported = {words[first].sentence for first, _ in spans("urgent:report")}
    past = {words[first].clause for first, _ in spans("urgent:past")}
    negations = {last for _, last in spans("urgent:negation")}
    new = {words[first].sentence for first, _ in spans("urgent:new")}

    def live(category: str) -> list[Span]:
        kept = []
        for first, last in spans(category):
            word = words[first]
            if word.sentence in hypothetical or word.clause in past:
                continue
            if word.sentence in message.questions and word.sentence not in reported:
                continue  # a question about a sign in general: "¿da fiebre el PRP?"
            if any(
                end in negations and words[end].clause == word.clause
                for end in range(max(first - _NEGATION_WINDOW, 0), first)
            ):
                continue
            kept.append((first, last))
        return kept

    about_procedure = bool(spans("procedures:named", "procedures:after", "procedures:context"))
    after_procedure = bool(spans("procedures:after"))
    pain = _covered(spans("pain_words", "symptoms", "weak_signs", "urgent:redness"))

    recent = {words[first].sentence for first, _ in spans("urgent:recent")}

    def is_new(sign: list[Span]) -> bool:
        """Numbness or weakness that started lately: "suddenly", "since yesterday", after a procedure."""
        return after_procedure or any(
            words[first].sentence in new or (about_procedure and words[first].sentence in recent) for first, _ in sign
        )

    numbness, weakness, spreading = live("urgent:numbness"), live("urgent:weakness"), live("urgent:spreading")
    found_signs = {
        "fever": bool(live("urgent:fever")),
        "site_redness": about_procedure
        and _near(live("urgent:redness"), spans("urgent:site", "body_parts"), _SITE_WINDOW),
        "spreading_pain": any(
            not pain.isdisjoint(range(first - _SPREADING_WINDOW, first))
            or not pain.isdisjoint(range(last + 1, last + _SPREADING_WINDOW + 1))
            for first, last in spreading
        ),
        "new_numbness": bool(numbness) and is_new(numbness),
        "new_weakness": bool(weakness) and is_new(weakness),
        "chest_pain": bool(live("urgent:chest_pain")),
        "breathing": bool(live("urgent:breathing")),
    }
    return tuple(sign for sign in URGENT_SIGNS if found_signs[sign])


def assess(text: str) -> Assessment:
    """Whether text holds medical content, which kinds, and whether it reports an urgent warning sign."""
    if not text or not text.strip():
        return NOTHING
    message, found = _matches(text)
    framed = _framed(message, found)
    if framed and not _signals(message, found, framed):
        return NOTHING  # a question about what the practice offers, and nothing else medical
    signals = _signals(message, found, set())
    signs = _urgent_signs(message, found)
    if signs and not signals:
        signals = [Signal.SYMPTOM]  # a warning sign is a symptom, whatever the vocabularies missed
    if not signals:
        return NOTHING
    return Assessment(signals=tuple(signals), medical=True, urgent=bool(signs), urgent_signs=signs)


def medical_signals(text: str) -> list[Signal]:
    """The kinds of medical content found in text, each once, in Signal's order; [] when none."""
    return list(assess(text).signals)


def looks_medical(text: str) -> bool:
    """True if text holds any kind of medical content (see `medical_signals`)."""
    return assess(text).medical
