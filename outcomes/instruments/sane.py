"""Single Assessment Numeric Evaluation (SANE): one 0-100 rating of the treated part as a percentage of normal.

Williams et al. (1999) asked: "How would you rate your shoulder today as a percentage of normal (0%
to 100% scale with 100% being normal)?". The same question is asked about any treated part, so the
item text holds a `{part}` placeholder that the survey fills with the episode's body site
("knee", "shoulder", "hip"...). The score is the number given; higher is better.

No MCID is attached: published SANE thresholds belong to one joint and one treatment, and this
item is asked about whichever part the episode concerns.
"""

from outcomes.instruments import register
from outcomes.instruments.base import Answers, Instrument, Item, ScoreDefinition, ScoreResult, Section

ITEM = Item(
    code="SANE",
    text={
        "en": "How would you rate your {part} today as a percentage of normal "
        "(0% to 100% scale with 100% being normal)?"
    },
    low=0,
    high=100,
    anchors={"en": ("0%", "100% (normal)")},
)


def score(answers: Answers) -> dict[str, ScoreResult]:
    answer = answers.get("SANE")
    if answer is None:
        return {"SANE": ScoreResult(None, "The SANE item is unanswered.")}
    if isinstance(answer, int):
        return {"SANE": ScoreResult(float(answer))}
    if len(answer) == 1:
        return {"SANE": ScoreResult(float(answer[0]))}
    return {"SANE": ScoreResult(None, "More than one value given for the SANE; it takes exactly one.")}


SANE = register(
    Instrument(
        code="SANE",
        name="Single Assessment Numeric Evaluation",
        items=(ITEM,),
        sections=(
            Section(
                code="SANE", title={"en": "Single Assessment Numeric Evaluation"}, instructions={}, items=("SANE",)
            ),
        ),
        scores=(
            ScoreDefinition(
                code="SANE",
                label={"en": "SANE (% of normal)"},
                low=0,
                high=100,
                higher_is_better=True,
            ),
        ),
        scoring=score,
        scoring_version="1",
        languages=("en",),
        source=(
            "Williams GN, Gangel TJ, Arciero RA, Uhorchak JM, Taylor DC. Comparison of the Single Assessment Numeric "
            "Evaluation method and two shoulder rating scales. Outcomes measures after shoulder surgery. Am J "
            "Sports Med 1999;27(2):214-221. Question wording checked against the question as quoted from Williams "
            "1999 by APTEI ('How would you rate your shoulder today as a percentage of normal?' (0% to 100% scale "
            "with 100% being normal); aptei.ca/library-article/easy-shoulder-outcome-measure) and against "
            "Clinimetrics: Single Assessment Numeric Evaluation, J Physiother 2019;65:111 (the same single 0-100 "
            "question asked of the part concerned, 'with 100 being normal'). The {part} substitution follows both."
        ),
        scoring_source="Williams et al. 1999: the percentage given, 0-100.",
        licence="Published in the literature; free to use.",
        missing_rule="One item: unanswered or several values given means no score.",
        body_region="any",
    )
)
