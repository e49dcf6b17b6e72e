"""The guard's vocabularies (data/*.txt) and the one pass that finds their phrases in a message.

See data/README.md for the file syntax. Each word of a message is repaired (misspellings,
then a one-letter repair against long medical words) and stemmed in English and Spanish;
each phrase is tried only at the words its first term can match, and a gap is at most a
few words, so the work per word is bounded and a message is read in linear time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import snowballstemmer

from lib.guard.text import Word, fold

DATA = Path(__file__).resolve().parent / "data"
LANGUAGES = ("en", "es")
# Longer runs of letters are not words: they are neither stemmed nor repaired.
_LONGEST_WORD = 40
# The one-letter repair: only for words this long, against vocabulary words at least this long.
_SHORTEST_REPAIRED = 6
_SHORTEST_REPAIR_TARGET = 7
# Vocabularies whose long words the repair aims at: names that are misspelled, and that no
# everyday word is one letter away from (fuzzy_stop.txt lists the exceptions found).
_REPAIR_TARGETS = ("medications", "conditions", "procedures")

_STEMMERS = {language: snowballstemmer.stemmer({"en": "english", "es": "spanish"}[language]) for language in LANGUAGES}


@lru_cache(maxsize=65_536)
def stem(word: str, language: str) -> str:
    """The Snowball stem of a folded word: stem('hurting', 'en') == 'hurt'."""
    return str(_STEMMERS[language].stemWord(word))


@dataclass(frozen=True, slots=True)
class Alternative:
    kind: str  # "stem", "exact" or "prefix"
    value: str
    language: str

    def matches(self, word: Word) -> bool:
        if self.kind == "exact":
            return word.text == self.value
        if self.kind == "prefix":
            return word.text.startswith(self.value)
        return (word.en if self.language == "en" else word.es) == self.value


@dataclass(frozen=True, slots=True)
class Term:
    alternatives: tuple[Alternative, ...]
    gap: int  # how many other words may stand before this term
    # The alternatives sorted by kind, for one set look-up each.
    exact: frozenset[str] = frozenset()
    english: frozenset[str] = frozenset()
    spanish: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()

    @classmethod
    def of(cls, alternatives: tuple[Alternative, ...], gap: int) -> Term:
        def values(kind: str, language: str = "") -> list[str]:
            return [a.value for a in alternatives if a.kind == kind and (not language or a.language == language)]

        return cls(
            alternatives,
            gap,
            exact=frozenset(values("exact")),
            english=frozenset(values("stem", "en")),
            spanish=frozenset(values("stem", "es")),
            prefixes=tuple(values("prefix")),
        )

    def can_match(self, texts: set[str], english: set[str], spanish: set[str]) -> bool:
        """False if no word of a message (its texts and stems given) can match this term."""
        return (
            bool(self.prefixes)
            or not self.exact.isdisjoint(texts)
            or not self.english.isdisjoint(english)
            or not self.spanish.isdisjoint(spanish)
        )

    def matches(self, word: Word) -> bool:
        return (
            word.text in self.exact
            or word.en in self.english
            or word.es in self.spanish
            or (bool(self.prefixes) and word.text.startswith(self.prefixes))
        )


@dataclass(frozen=True, slots=True, eq=False)  # compared and hashed by identity
class Phrase:
    category: str  # "symptoms", "urgent:fever", ...
    terms: tuple[Term, ...]
    not_after: frozenset[str]
    where: str  # file and line, to say where a match came from

    def match_at(self, words: list[Word], index: int, blanked: set[int]) -> int | None:
        """The index of the last word of this phrase when it starts at words[index], else None."""
        if self.not_after and index > 0 and words[index - 1].text in self.not_after:
            return None
        sentence = words[index].sentence
        position = index
        count = len(words)
        for term in self.terms[1:]:
            for candidate in range(position + 1, min(position + 2 + term.gap, count)):
                word = words[candidate]
                if word.sentence != sentence:
                    return None
                if candidate not in blanked and term.matches(word):
                    position = candidate
                    break
            else:
                return None
        return position


Span = tuple[int, int]  # first and last word index, inclusive
_Indexes = tuple[
    dict[str, tuple[Phrase, ...]],
    dict[tuple[str, str], tuple[Phrase, ...]],
    dict[str, tuple[tuple[str, Phrase], ...]],
]


@dataclass
class Lexicon:
    """Every vocabulary, indexed by what the first word of each phrase can be."""

    phrases: list[Phrase] = field(default_factory=list)
    misspellings: dict[str, str] = field(default_factory=dict)
    repair_stop: frozenset[str] = frozenset()
    # Phrases by what their first word can be (exact word, stem, first three letters of a
    # prefix), one set of indexes for the benign phrases and one for the rest.
    indexes: dict[bool, _Indexes] = field(
        default_factory=lambda: {
            benign: (defaultdict(tuple), defaultdict(tuple), defaultdict(tuple)) for benign in (False, True)
        }
    )
    # For skipping the stemmer: the first three letters of every stem in a vocabulary.
    stem_heads: dict[str, set[str]] = field(default_factory=lambda: {language: set() for language in LANGUAGES})
    known_stems: dict[str, set[str]] = field(default_factory=lambda: {language: set() for language in LANGUAGES})
    known_exact: set[str] = field(default_factory=set)
    # The one-letter repair: each target word under itself and under each one-letter deletion.
    repair_index: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def add(self, phrase: Phrase) -> None:
        self.phrases.append(phrase)
        by_exact, by_stem, by_prefix = self.indexes[phrase.category.startswith("benign:")]
        for alternative in phrase.terms[0].alternatives:
            if alternative.kind == "exact":
                by_exact[alternative.value] += (phrase,)
            elif alternative.kind == "prefix":
                by_prefix[alternative.value[:3]] += ((alternative.value, phrase),)
            else:
                by_stem[(alternative.language, alternative.value)] += (phrase,)
        for term in phrase.terms:
            for alternative in term.alternatives:
                if alternative.kind == "stem":
                    self.stem_heads[alternative.language].add(alternative.value[:3])
                    self.known_stems[alternative.language].add(alternative.value)
                elif alternative.kind == "exact":
                    self.known_exact.add(alternative.value)

    def add_repair_target(self, word: str) -> None:
        if len(word) >= _SHORTEST_REPAIR_TARGET and word.isalpha():
            self.repair_index[word].add(word)
            for cut in range(len(word)):
                self.repair_index[word[:cut] + word[cut + 1 :]].add(word)

    def prepare(self, word: Word) -> None:
        """Repair the word's spelling, then give it its English and Spanish stems."""
        word.text = _repair_cached(word.text) if self is LEXICON else _repair(self, word.text)
        for language in LANGUAGES:
            text = word.text
            if len(text) <= _LONGEST_WORD and (len(text) <= 4 or text[:3] in self.stem_heads[language]):
                value = stem(text, language)
            else:
                value = text  # no stem in any vocabulary starts like this word
            if language == "en":
                word.en = value
            else:
                word.es = value

    def _known(self, text: str) -> bool:
        return text in self.known_exact or any(
            text[:3] in self.stem_heads[language] and stem(text, language) in self.known_stems[language]
            for language in LANGUAGES
        )

    def find(self, words: list[Word], blanked: set[int], *, benign: bool = False) -> dict[str, list[Span]]:
        """Every match of the benign phrases (benign=True) or of the other vocabularies, by category."""
        by_exact, by_stem, by_prefix = self.indexes[benign]
        found: dict[str, list[Span]] = defaultdict(list)
        seen: dict[tuple[str, str, str], tuple[Phrase, ...]] = {}
        # A phrase whose later words are nowhere in the message is never tried: a message of
        # one word repeated costs one look-up a word, not one attempt per phrase.
        texts = {word.text for word in words}
        english = {word.en for word in words}
        spanish = {word.es for word in words}
        viable: dict[Phrase, bool] = {}
        for index, word in enumerate(words):
            if index in blanked:
                continue
            key = (word.text, word.en, word.es)
            candidates = seen.get(key)
            if candidates is None:
                reached = dict.fromkeys(  # a phrase can be reached by two keys
                    by_exact.get(word.text, ())
                    + by_stem.get(("en", word.en), ())
                    + by_stem.get(("es", word.es), ())
                    + tuple(p for prefix, p in by_prefix.get(word.text[:3], ()) if word.text.startswith(prefix))
                )
                for phrase in reached:
                    if phrase not in viable:
                        viable[phrase] = all(term.can_match(texts, english, spanish) for term in phrase.terms[1:])
                candidates = tuple(phrase for phrase in reached if viable[phrase])
                seen[key] = candidates
            for phrase in candidates:
                end = phrase.match_at(words, index, blanked)
                if end is not None:
                    found[phrase.category].append((index, end))
        return found


@lru_cache(maxsize=65_536)
def _repair_cached(text: str) -> str:
    return _repair(LEXICON, text)


def _repair(lexicon: Lexicon, text: str) -> str:
    """A misspelling's intended word; else the one vocabulary word one letter away; else text."""
    if text in lexicon.misspellings:
        return lexicon.misspellings[text]
    if (
        not _SHORTEST_REPAIRED <= len(text) <= _LONGEST_WORD
        or not text.isalpha()
        or text in lexicon.repair_stop
        or lexicon._known(text)
    ):
        return text
    index = lexicon.repair_index
    targets = set(index.get(text, ()))  # a letter left out
    for cut in range(len(text)):
        # A letter too many (the target itself), or one changed or swapped (a target with one cut too).
        near = index.get(text[:cut] + text[cut + 1 :])
        if near:
            targets |= near
    return targets.pop() if len(targets) == 1 else text


def _parse_term(raw: str, language: str, gap: int) -> Term:
    alternatives = []
    for part in raw.split("|"):
        if part.startswith("="):
            alternatives.append(Alternative("exact", fold(part[1:]), language))
        elif part.endswith("*"):
            value = fold(part[:-1])
            if len(value) < 3:
                raise ValueError(f"a prefix needs three letters at least: {raw!r}")
            alternatives.append(Alternative("prefix", value, language))
        else:
            alternatives.append(Alternative("stem", stem(fold(part), language), language))
    return Term.of(tuple(alternatives), gap)


def parse_phrase(line: str, *, category: str, language: str, where: str) -> Phrase:
    """One line of a vocabulary file as a phrase (see data/README.md)."""
    parts = line.split()
    not_after: frozenset[str] = frozenset()
    if parts and parts[0].startswith("!"):
        not_after = frozenset(fold(word) for word in parts[0][1:].split("|"))
        parts = parts[1:]
    terms: list[Term] = []
    gap = 0
    for part in parts:
        if part.startswith("~"):
            gap = int(part[1:])
            continue
        terms.append(_parse_term(part, language, gap if terms else 0))
        gap = 0
    if not terms:
        raise ValueError(f"{where}: no words")
    return Phrase(category, tuple(terms), not_after, where)


def _lines(path: Path) -> list[tuple[int, str]]:
    lines = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if line:
            lines.append((number, line))
    return lines


def load(directory: Path = DATA) -> Lexicon:
    """Every vocabulary file in directory, as one lexicon."""
    lexicon = Lexicon()
    for _, line in _lines(directory / "misspellings.txt"):
        written, meant = line.split()
        lexicon.misspellings[fold(written)] = fold(meant)
    lexicon.repair_stop = frozenset(fold(line) for _, line in _lines(directory / "fuzzy_stop.txt"))
    for path in sorted(directory.glob("*_[a-z][a-z].txt")):
        name, language = path.stem.rsplit("_", 1)
        if language not in LANGUAGES:
            continue
        section = ""
        for number, line in _lines(path):
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
                continue
            category = f"{name}:{section}" if section else name
            lexicon.add(parse_phrase(line, category=category, language=language, where=f"{path.name}:{number}"))
            if name in _REPAIR_TARGETS:
                # Names, not the small words around them ("=had", "=received").
                for part in line.split():
                    for alternative in part.split("|"):
                        if alternative[:1] not in {"=", "!", "~"} and not alternative.endswith("*"):
                            lexicon.add_repair_target(fold(alternative))
    return lexicon


LEXICON = load()
