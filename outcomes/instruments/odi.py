"""Oswestry Disability Index (ODI) version 2.1a: ten sections of six statements, scored 0-5, as a percentage.

Scoring, from the ODI's own scoring note (Fairbank & Pynsent 2000; printed under the 2.1a form):
"For each section the total possible score is 5: if the first statement is marked the section
score = 0, if the last statement is marked it = 5. If all ten sections are completed the score is
calculated as follows: Example: 16 (total scored) / 50 (total possible score) x 100 = 32%. If one
section is missed or not applicable the score is calculated: 16 (total scored) / 45 (total possible
score) x 100 = 35.5%". So the index is total / (5 x sections answered) x 100, with at most one
section missing; the guide gives no way to score two or more missing sections, so we do not.
(Secondary summaries generalise this to "for every question not answered, the denominator is reduced
by 5"; no primary source for more than one missing section was found, so it is not adopted.)
Two statements ticked in one section: "If more than one box is marked in each section, take the
highest score."
"""

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

# (title, six statements in score order 0..5), as printed on the ODI 2.1a form.
_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Pain intensity",
        (
            "I have no pain at the moment",
            "The pain is very mild at the moment",
            "The pain is moderate at the moment",
            "The pain is fairly severe at the moment",
            "The pain is very severe at the moment",
            "The pain is the worst imaginable at the moment",
        ),
    ),
    (
        "Personal care (washing, dressing etc)",
        (
            "I can look after myself normally without causing extra pain",
            "I can look after myself normally but it causes extra pain",
            "It is painful to look after myself and I am slow and careful",
            "I need some help but manage most of my personal care",
            "I need help every day in most aspects of self-care",
            "I do not get dressed, I wash with difficulty and stay in bed",
        ),
    ),
    (
        "Lifting",
        (
            "I can lift heavy weights without extra pain",
            "I can lift heavy weights but it gives extra pain",
            "Pain prevents me from lifting heavy weights off the floor, but I can manage if they are "
            "conveniently placed eg. on a table",
            "Pain prevents me from lifting heavy weights, but I can manage light to medium weights if they are "
            "conveniently positioned",
            "I can lift very light weights",
            "I cannot lift or carry anything at all",
        ),
    ),
    (
        "Walking",
        (
            "Pain does not prevent me walking any distance",
            "Pain prevents me from walking more than 1 mile",
            "Pain prevents me from walking more than 1/2 mile",
            "Pain prevents me from walking more than 100 yards",
            "I can only walk using a stick or crutches",
            "I am in bed most of the time",
        ),
    ),
    (
        "Sitting",
        (
            "I can sit in any chair as long as I like",
            "I can only sit in my favourite chair as long as I like",
            "Pain prevents me from sitting more than 1 hour",
            "Pain prevents me from sitting more than 30 minutes",
            "Pain prevents me from sitting more than 10 minutes",
            "Pain prevents me from sitting at all",
        ),
    ),
    (
        "Standing",
        (
            "I can stand as long as I want without extra pain",
            "I can stand as long as I want but it gives me extra pain",
            "Pain prevents me from standing for more than 1 hour",
            "Pain prevents me from standing for more than 30 minutes",
            "Pain prevents me from standing for more than 10 minutes",
            "Pain prevents me from standing at all",
        ),
    ),
    (
        "Sleeping",
        (
            "My sleep is never disturbed by pain",
            "My sleep is occasionally disturbed by pain",
            "Because of pain I have less than 6 hours sleep",
            "Because of pain I have less than 4 hours sleep",
            "Because of pain I have less than 2 hours sleep",
            "Pain prevents me from sleeping at all",
        ),
    ),
    (
        "Sex life (if applicable)",
        (
            "My sex life is normal and causes no extra pain",
            "My sex life is normal but causes some extra pain",
            "My sex life is nearly normal but is very painful",
            "My sex life is severely restricted by pain",
            "My sex life is nearly absent because of pain",
            "Pain prevents any sex life at all",
        ),
    ),
    (
        "Social life",
        (
            "My social life is normal and gives me no extra pain",
            "My social life is normal but increases the degree of pain",
            "Pain has no significant effect on my social life apart from limiting my more energetic interests "
            "eg, sport",
            "Pain has restricted my social life and I do not go out as often",
            "Pain has restricted my social life to my home",
            "I have no social life because of pain",
        ),
    ),
    (
        "Travelling",
        (
            "I can travel anywhere without pain",
            "I can travel anywhere but it gives me extra pain",
            "Pain is bad but I manage journeys over two hours",
            "Pain restricts me to journeys of less than one hour",
            "Pain restricts me to short necessary journeys under 30 minutes",
            "Pain prevents me from travelling except to receive treatment",
        ),
    ),
)

INSTRUCTIONS = (
    "This questionnaire has been designed to give us information as to how your back or leg pain is affecting "
    "your ability to manage in everyday life. Please answer by checking ONE box in each section for the "
    "statement which best applies to you. We realize you may consider that two or more statements in any one "
    "section apply but please just shade out the spot that indicates the statement which most clearly "
    "describes your problem."
)

ITEMS = tuple(
    Item(
        code=str(number),
        text={"en": f"Section {number} – {title}"},  # noqa: RUF001 (the dash printed on the form)
        options=tuple(Option(code=score, text={"en": statement}) for score, statement in enumerate(statements)),
    )
    for number, (title, statements) in enumerate(_SECTIONS, start=1)
)
_CODES = tuple(item.code for item in ITEMS)
_SECTION_COUNT = len(_CODES)
_MAX_MISSING = 1


def score(answers: Answers) -> dict[str, ScoreResult]:
    total = 0
    answered = 0
    for code in _CODES:
        answer = answers.get(code)
        if answer is None:
            continue
        # Two or more statements ticked: the guide says take the highest.
        total += answer if isinstance(answer, int) else max(answer)
        answered += 1
    missing = _SECTION_COUNT - answered
    if missing > _MAX_MISSING:
        return {
            "ODI": ScoreResult(
                None, f"{missing} of {_SECTION_COUNT} ODI sections unanswered; the ODI guide allows one."
            )
        }
    return {"ODI": ScoreResult(total / (5 * answered) * 100)}


ODI = register(
    Instrument(
        code="ODI",
        name="Oswestry Disability Index 2.1a",
        items=ITEMS,
        sections=(
            Section(
                code="ODI", title={"en": "Oswestry Disability Index"}, instructions={"en": INSTRUCTIONS}, items=_CODES
            ),
        ),
        scores=(
            ScoreDefinition(
                code="ODI",
                label={"en": "Oswestry Disability Index (%)"},
                low=0,
                high=100,
                higher_is_better=False,
                loinc="97909-6",
                mcid=Threshold(
                    value=10,
                    source=(
                        "Ostelo RWJG, Deyo RA, Stratford P, et al. Interpreting change scores for pain and functional "
                        "status in low back pain: towards international consensus regarding minimal important "
                        "change. Spine 2008;33(1):90-94 (ODI 0-100: 10 points)."
                    ),
                ),
            ),
        ),
        scoring=score,
        scoring_version="1",
        languages=("en",),
        source=(
            "ODI version 2.1a form (© Jeremy Fairbank 1980, distributed by Mapi Research Trust, "
            "https://eprovide.mapi-trust.org/instruments/oswestry-disability-index). Wording checked against "
            "two reproductions of the 2.1a form: the 'ODI Option Choices' table in cesc1989/apuntes "
            "(Luna/Patient_Self_Report/Option_Choices_per_Form_Type/ODI_Option_Choices.md) and the Kettering "
            "Health web form (https://www.ketteringhealth.org/brain-and-spine/spine/backquiz/); instructions as "
            "on http://www.soapnote.org/musculoskeletal/oswestry-disability-index/."
        ),
        scoring_source=(
            "Fairbank JCT, Pynsent PB. The Oswestry Disability Index. Spine 2000;25(22):2940-2953; the scoring "
            "note printed with the 2.1a form; two-box rule as quoted by Physiopedia, 'Oswestry Disability Index'."
        ),
        licence=(
            "ODI © Jeremy Fairbank, 1980. All Rights Reserved (LOINC 97909-6 copyright notice, "
            "https://loinc.org/97909-6). Terms via Mapi Research Trust: 'Free to access for students, "
            "physicians, clinical practice, and non-funded academic users. Fees may apply for funded academic "
            "users, healthcare organizations, commercial users, and IT companies.' (Shirley Ryan AbilityLab "
            "Rehabilitation Measures Database, Oswestry Disability Index). A practice using the ODI in an "
            "electronic system should register its use with Mapi Research Trust."
        ),
        loinc="97908-8",
        missing_rule=(
            "Scored from the answered sections as total / (5 x sections answered) x 100 when at most one of the "
            "ten sections is unanswered (guide: 'If one section is missed or not applicable ... 16 / 45 x 100'); "
            "not scored with two or more unanswered. Several statements ticked in one section: the highest "
            "counts ('If more than one box is marked in each section, take the highest score')."
        ),
        body_region="back",
    )
)
