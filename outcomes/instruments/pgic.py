"""Patient Global Impression of Change (PGIC), the seven-point version of Hurst & Bolton (2004), coded 1-7.

1 = "No change (or condition has got worse)" ... 7 = "A great deal better, and a considerable
improvement that has made all the difference". The score is the box ticked; higher is better.
It is a transition question (it asks about change since treatment began), so it has no baseline
and no MCID.
"""

from outcomes.instruments import register
from outcomes.instruments.base import Answers, Instrument, Item, Option, ScoreDefinition, ScoreResult, Section

QUESTION = (
    "Since beginning treatment at this clinic, how would you describe the change (if any) in ACTIVITY "
    "LIMITATIONS, SYMPTOMS, EMOTIONS and OVERALL QUALITY OF LIFE, related to your painful condition?"
)
OPTIONS = (
    Option(1, {"en": "No change (or condition has got worse)"}),
    Option(2, {"en": "Almost the same, hardly any change at all"}),
    Option(3, {"en": "A little better, but no noticeable change"}),
    Option(4, {"en": "Somewhat better, but the change has not made any real difference"}),
    Option(5, {"en": "Moderately better, and a slight but noticeable change"}),
    Option(6, {"en": "Better, and a definite improvement that has made a real and worthwhile difference"}),
    Option(7, {"en": "A great deal better, and a considerable improvement that has made all the difference"}),
)
ITEM = Item(code="PGIC", text={"en": QUESTION}, options=OPTIONS)


def score(answers: Answers) -> dict[str, ScoreResult]:
    answer = answers.get("PGIC")
    if answer is None:
        return {"PGIC": ScoreResult(None, "The PGIC item is unanswered.")}
    if isinstance(answer, int):
        return {"PGIC": ScoreResult(float(answer))}
    if len(answer) == 1:
        return {"PGIC": ScoreResult(float(answer[0]))}
    return {"PGIC": ScoreResult(None, "More than one PGIC box ticked; the PGIC takes exactly one.")}


PGIC = register(
    Instrument(
        code="PGIC",
        name="Patient Global Impression of Change (Hurst & Bolton 2004)",
        items=(ITEM,),
        sections=(
            Section(
                code="PGIC",
                title={"en": "Patient Global Impression of Change"},
                instructions={"en": "Please choose ONE box."},
                items=("PGIC",),
            ),
        ),
        scores=(
            ScoreDefinition(
                code="PGIC",
                label={"en": "Patient Global Impression of Change (1-7)"},
                low=1,
                high=7,
                higher_is_better=True,
            ),
        ),
        scoring=score,
        scoring_version="1",
        languages=("en",),
        source=(
            "Hurst H, Bolton J. Assessing the clinical significance of change scores recorded on subjective outcome "
            "measures. J Manipulative Physiol Ther 2004;27(1):26-35. Wording checked against two reproductions in "
            "public code (a headache-clinic Questionnaire 'gpoc' and a PGIC reference table used in migraine "
            "trials), which differ from it only in naming the condition; the migraine table prints option 6 "
            "with the comma ('Better, and a definite improvement ...') as here, the headache Questionnaire and a "
            "third public implementation without it."
        ),
        scoring_source="Hurst & Bolton 2004: the box ticked, 1-7.",
        licence="Published in the literature; free to use.",
        missing_rule="One item: unanswered or several boxes ticked means no score.",
        body_region="any",
    )
)
