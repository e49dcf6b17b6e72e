"""VISA-P (Victorian Institute of Sport Assessment - Patella): eight questions, total 0-100 (100 = no symptoms).

Visentini et al. (1998): questions 1-6 are scored 0-10; question 7 is scored 0, 4, 7 or 10;
question 8 has three parts and the athlete completes EITHER 8A (no pain during sport, 0-30),
8B (pain that does not stop sport, 0-20) or 8C (pain that stops sport, 0-10). The total is the
sum of questions 1-7 and the one part of question 8. The answer codes are the points printed on
the form, so the score is their sum.

Missing data: Visentini 1998 gives no rule, so every question must be answered, question 8 in
exactly one part (the conservative rule). Several boxes ticked on one question: no rule, not scored.
"""

from collections.abc import Sequence

from outcomes.instruments import register
from outcomes.instruments.base import (
    Answers,
    Instrument,
    Item,
    Option,
    ScoreDefinition,
    ScoreResult,
    Section,
    Threshold,
)

_SCALES = (
    ("1", "For how many minutes can you sit pain free?", ("0 mins", "100 mins")),
    ("2", "Do you have pain walking downstairs with a normal gait cycle?", ("strong severe pain", "no pain")),
    (
        "3",
        "Do you have pain at the knee with full active non-weightbearing knee extension?",
        ("strong severe pain", "no pain"),
    ),
    ("4", "Do you have pain when doing a full weight bearing lunge?", ("strong severe pain", "no pain")),
    ("5", "Do you have problems squatting?", ("unable", "no problems")),
    (
        "6",
        "Do you have pain during or immediately after doing 10 single leg hops?",
        ("strong severe pain/unable", "no pain"),
    ),
)
Q7 = Item(
    code="7",
    text={"en": "Are you currently undertaking sport or other physical activity?"},
    options=(
        Option(0, {"en": "Not at all"}),
        Option(4, {"en": "Modified training ± modified competition"}),
        Option(7, {"en": "Full training ± competition but not at same level as when symptoms began"}),
        Option(10, {"en": "Competing at the same or higher level as when symptoms began"}),
    ),
)
_DURATIONS = ("NIL", "1-5 mins", "6-10 mins", "11-15 mins", ">15 mins")


def _part(code: str, text: str, points: tuple[int, ...]) -> Item:
    return Item(
        code=code,
        text={"en": text},
        options=tuple(Option(p, {"en": label}) for p, label in zip(points, _DURATIONS, strict=True)),
    )


Q8 = (
    _part(
        "8A",
        "If you have no pain while undertaking sport, for how long can you train/practise?",
        (0, 7, 14, 21, 30),
    ),
    _part(
        "8B",
        "If you have some pain while undertaking sport, but it does not stop you from completing your "
        "training/practice, for how long can you train/practise?",
        (0, 4, 10, 14, 20),
    ),
    _part(
        "8C",
        "If you have pain that stops you from completing your training/practice, for how long can you train/practise?",
        (0, 2, 5, 7, 10),
    ),
)
ITEMS = (
    *(Item(code=code, text={"en": text}, low=0, high=10, anchors={"en": ends}) for code, text, ends in _SCALES),
    Q7,
    *Q8,
)
_MAIN = ("1", "2", "3", "4", "5", "6", "7")
_BRANCH = ("8A", "8B", "8C")


def _one(answer: int | Sequence[int]) -> int | None:
    """The single code of an answer, or None for several codes."""
    if isinstance(answer, int):
        return answer
    return answer[0] if len(answer) == 1 else None


def score(answers: Answers) -> dict[str, ScoreResult]:
    total = 0
    unanswered: list[str] = []
    several: list[str] = []
    for code in _MAIN:
        answer = answers.get(code)
        if answer is None:
            unanswered.append(code)
            continue
        value = _one(answer)
        if value is None:
            several.append(code)
        else:
            total += value
    parts = [(code, answer) for code in _BRANCH if (answer := answers.get(code)) is not None]
    problems = []
    if unanswered:
        problems.append(f"question {', '.join(unanswered)} unanswered")
    if not parts:
        problems.append("question 8 unanswered (one of 8A, 8B or 8C is needed)")
    elif len(parts) > 1:
        answered = " and ".join(code for code, _ in parts)
        problems.append(f"question 8 answered in {answered}; the form asks for EITHER A, B or C")
    else:
        part, answer = parts[0]
        value = _one(answer)
        if value is None:
            several.append(part)
        else:
            total += value
    if several:
        problems.append(f"more than one box ticked for {', '.join(several)}")
    if problems:
        return {
            "VISA-P": ScoreResult(
                None, f"VISA-P not scored: {'; '.join(problems)}. The VISA-P has no published rule for that."
            )
        }
    return {"VISA-P": ScoreResult(float(total))}


VISA_P = register(
    Instrument(
        code="VISA-P",
        name="Victorian Institute of Sport Assessment - Patella (VISA-P)",
        items=ITEMS,
        sections=(
            Section(
                code="VISA-P",
                title={"en": "VISA-P questionnaire"},
                instructions={
                    "en": "In this questionnaire, the term pain refers specifically to pain in the patellar tendon "
                    "region."
                },
                items=_MAIN,
            ),
            Section(
                code="8",
                title={"en": "Question 8"},
                instructions={
                    "en": "Please complete EITHER A, B or C in this question. If you have no pain while undertaking "
                    "sport please complete Q8a only. If you have pain while undertaking sport but it does not stop "
                    "you from completing the activity, please complete Q8b only. If you have pain which stops you "
                    "from completing sporting activities, please complete Q8c only."
                },
                items=_BRANCH,
            ),
        ),
        scores=(
            ScoreDefinition(
                code="VISA-P",
                label={"en": "VISA-P total (0-100)"},
                low=0,
                high=100,
                higher_is_better=True,
                mcid=Threshold(
                    value=13,
                    source=(
                        "Hernandez-Sanchez S, Hidalgo MD, Gomez A. Responsiveness of the VISA-P scale for patellar "
                        "tendinopathy in athletes. Br J Sports Med 2014;48(6):453-457 ('an absolute change greater "
                        "than 13 points')."
                    ),
                ),
            ),
        ),
        scoring=score,
        scoring_version="1",
        languages=("en",),
        source=(
            "Visentini PJ, Khan KM, Cook JL, Kiss ZS, Harcourt PR, Wark JD. The VISA score: an index of severity "
            "of symptoms in patients with jumper's knee (patellar tendinosis). J Sci Med Sport 1998;1(1):22-28 "
            "(PubMed 9732118 abstract: six of eight questions on a 0-10 scale, 10 = optimal health, total 0-100). "
            "Answer points (questions 1-6 0-10; question 7 0/4/7/10; 8A 0/7/14/21/30, 8B 0/4/10/14/20, "
            "8C 0/2/5/7/10) checked against awell-health/awell-score (src/scores/visa/visa_p/definition/"
            "visa_p_inputs.ts) and an independent open-source VISA-P transcription (TypeScript questionnaire "
            "module, same points); the question 8 instructions agree in substance with awell's A/B/C selector "
            "('I have no pain while undertaking sport', '... but it does not stop me from completing the "
            "activity', '... pain that stops me from completing sporting activities'); question 7 wording also "
            "matches the identical question 7 of VISA-A scoring scripts in public R code. The English form itself "
            "was not available to us: questions 1-6 agree with that one transcription apart from hyphens and "
            "commas, which paraphrases 8A-8C; their wording and the instructions are not otherwise verified."
        ),
        scoring_source="Visentini et al. 1998: sum of questions 1-7 and the one part of question 8 answered, 0-100.",
        licence="Published in the literature; free to use.",
        missing_rule=(
            "No published rule: questions 1-7 and exactly one of 8A, 8B, 8C are needed, each with one answer, "
            "else the VISA-P is not scored."
        ),
        body_region="knee",
    )
)
