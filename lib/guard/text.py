"""A message as words: accents stripped, case folded, split into sentences and clauses.

Nothing here knows a medical word; `vocabulary` repairs and stems the words it returns.
Every step is one pass over the text, so a long message costs time in proportion to its length.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# A run of letters or digits, in any script ("munequera", "100", "l4").
_WORD = re.compile(r"[^\W_]+")
# "can't", "knee's": the apostrophe goes, the word stays whole ("cant", "knees").
_INNER_APOSTROPHE = re.compile(r"(?<=[^\W\d_])'(?=[^\W\d_])")
# Between two words, these end a sentence; a full stop only before a space ("Dr. Lee"
# ends one, harmlessly; "100.8" does not).
_SENTENCE_GAP = re.compile(r"[!?;\u00bf\u00a1\n]|\.(?:\s|$)")
_CLAUSE_GAP = re.compile(r"[,:()\"]")
_CLAUSE_WORDS = frozenset({"but", "though", "although", "however", "pero", "aunque", "sino"})
# The same letter three times or more is a key held down: "sooo" -> "so", "paaain" -> "pain".
_HELD_DOWN = re.compile(r"([^\W\d_])\1{2,}")


def strip_accents(text: str) -> str:
    """Text without combining accents, case kept: 'Me DUELE la muñeca' -> 'Me DUELE la muneca'."""
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def fold(word: str) -> str:
    """A word as vocabularies and messages are compared: casefolded, no accents, no held-down keys."""
    return _fold_stripped(strip_accents(word))


@lru_cache(maxsize=65_536)
def _fold_stripped(word: str) -> str:
    return _HELD_DOWN.sub(r"\1", word.casefold())


def _lower_in_place(text: str) -> str:
    """Lower-cased text of the same length, so that offsets into it are offsets into `text`."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(char.lower() if len(char.lower()) == 1 else char for char in text)


@dataclass(slots=True)
class Word:
    """One word of a message: where it is, what it says, and its stems once `vocabulary` adds them."""

    text: str  # folded, then repaired by `vocabulary`
    start: int
    end: int
    sentence: int
    clause: int
    titlecase: bool  # "Dolores", not "dolores" nor "DOLORES"
    en: str = ""
    es: str = ""


@dataclass(slots=True)
class Message:
    """A message split into words; `plain` is the lower-cased text the word offsets point into."""

    plain: str
    words: list[Word]
    questions: set[int]  # the sentences asked as questions ("?" after, or "¿" before)


def split(text: str) -> Message:
    """The words of text, each with its sentence and clause numbers."""
    stripped = _INNER_APOSTROPHE.sub("", strip_accents(text))
    plain = _lower_in_place(stripped)
    words: list[Word] = []
    questions: set[int] = set()
    sentence = clause = 0
    previous_end = 0
    for match in _WORD.finditer(stripped):
        gap = stripped[previous_end : match.start()]
        if words:
            if _SENTENCE_GAP.search(gap):
                if "?" in gap:
                    questions.add(sentence)
                sentence += 1
                clause += 1
            elif _CLAUSE_GAP.search(gap) or words[-1].text in _CLAUSE_WORDS:
                clause += 1
        if "\u00bf" in gap:
            questions.add(sentence)
        token = match.group()
        words.append(
            Word(
                text=_fold_stripped(token),
                start=match.start(),
                end=match.end(),
                sentence=sentence,
                clause=clause,
                titlecase=token[0].isupper() and not token[1:].isupper(),
            )
        )
        previous_end = match.end()
    if "?" in stripped[previous_end:]:
        questions.add(sentence)
    return Message(plain=plain, words=words, questions=questions)
