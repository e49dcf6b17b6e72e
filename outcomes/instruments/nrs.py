"""Numeric Rating Scale (NRS) for pain intensity: one 0-10 item, 0 = no pain, 10 = worst pain imaginable.

The NRS has no owner or single official form. We follow the format described by Hawker et al.
(2011): "an 11-point numeric scale ... anchored by 0 representing one pain extreme (e.g. 'no pain')
and 10 representing the other pain extreme (e.g. 'pain as bad as you can imagine' or 'worst pain
imaginable')", asking for the average pain over the last week (the recall period we use at every
follow-up, so baseline and follow-up answers compare like with like).
"""

from outcomes.instruments import register
from outcomes.instruments.base import Answers, Instrument, Item, ScoreDefinition, ScoreResult, Section, Threshold

ITEM = Item(
    code="NRS",
    text={
        "en": "Please rate your pain by choosing the one number that best describes your pain on average "
        "over the last week."
    },
    low=0,
    high=10,
    anchors={"en": ("No pain", "Worst pain imaginable")},
)


def score(answers: Answers) -> dict[str, ScoreResult]:
    answer = answers.get("NRS")
    if answer is None:
        return {"NRS": ScoreResult(None, "The NRS item is unanswered.")}
    if isinstance(answer, int):
        return {"NRS": ScoreResult(float(answer))}
    if len(answer) == 1:
        return {"NRS": ScoreResult(float(answer[0]))}
    return {"NRS": ScoreResult(None, "More than one number chosen on the NRS; it takes exactly one.")}


NRS = register(
    Instrument(
        code="NRS",
        name="Numeric Rating Scale for pain (0-10), average pain over the last week",
        items=(ITEM,),
        sections=(Section(code="NRS", title={"en": "Pain"}, instructions={}, items=("NRS",)),),
        scores=(
            ScoreDefinition(
                code="NRS",
                label={"en": "Pain NRS (0-10)"},
                low=0,
                high=10,
                higher_is_better=False,
                # LOINC 72514-3 "Pain severity - 0-10 verbal numeric rating [Score] - Reported".
                loinc="72514-3",
                mcid=Threshold(
                    value=30,
                    unit="percent",
                    source=(
                        "Farrar JT, Young JP Jr, LaMoreaux L, Werth JL, Poole RM. Clinical importance of changes in "
                        "chronic pain intensity measured on an 11-point numerical pain rating scale. Pain "
                        "2001;94(2):149-158: a reduction of about 2 points or about 30% is clinically important; "
                        "we use the 30% reduction, which Farrar found less dependent on the baseline."
                    ),
                ),
            ),
        ),
        scoring=score,
        scoring_version="1",
        languages=("en",),
        source=(
            "Format and anchors: Hawker GA, Mian S, Kendzerska T, French M. Measures of adult pain. Arthritis Care "
            "Res 2011;63(S11):S240-S252. The item sentence (average pain over the last week) is the practice's "
            "own, since the NRS has no single official wording."
        ),
        scoring_source="The score is the number chosen (Hawker et al. 2011).",
        licence="Public domain; no permission needed.",
        loinc="72514-3",
        missing_rule="One item: unanswered or several numbers chosen means no score.",
        body_region="any",
    )
)
