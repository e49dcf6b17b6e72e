"""Lower Extremity Functional Scale (LEFS): twenty activities rated 0-4, summed to 0-80 (80 = no difficulty).

Binkley et al. (1999) score the LEFS as the sum of the twenty items. We found no published rule for
missing items, nor for two boxes ticked on one item, in the paper or in the form "reprinted ... with
permission of the American Physical Therapy Association" (the form asks: "Please provide an answer
for each activity"). The often-repeated "replace up to four missing items by the mean of the
answered ones" could not be traced to Binkley 1999 or any scoring guide in our sources, so we apply
the conservative rule: every item must have exactly one answer, else the LEFS is not scored.
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

ACTIVITIES = (
    "Any of your usual work, housework, or school activities.",
    "Your usual hobbies, recreational or sporting activities.",
    "Getting into or out of the bath.",
    "Walking between rooms.",
    "Putting on your shoes or socks.",
    "Squatting.",
    "Lifting an object, like a bag of groceries from the floor.",
    "Performing light activities around your home.",
    "Performing heavy activities around your home.",
    "Getting into or out of a car.",
    "Walking 2 blocks.",
    "Walking a mile.",
    "Going up or down 10 stairs (about 1 flight of stairs).",
    "Standing for 1 hour.",
    "Sitting for 1 hour.",
    "Running on even ground.",
    "Running on uneven ground.",
    "Making sharp turns while running fast.",
    "Hopping.",
    "Rolling over in bed.",
)
OPTIONS = (
    Option(0, {"en": "Extreme Difficulty or Unable to Perform Activity"}),
    Option(1, {"en": "Quite a Bit of Difficulty"}),
    Option(2, {"en": "Moderate Difficulty"}),
    Option(3, {"en": "A Little Bit of Difficulty"}),
    Option(4, {"en": "No Difficulty"}),
)
INSTRUCTIONS = (
    "We are interested in knowing whether you are having any difficulty at all with the activities listed below "
    "because of your lower limb problem for which you are currently seeking attention. Please provide an answer "
    "for each activity.\n\nToday, do you or would you have any difficulty at all with:"
)

ITEMS = tuple(
    Item(code=str(number), text={"en": text}, options=OPTIONS) for number, text in enumerate(ACTIVITIES, start=1)
)
_CODES = tuple(item.code for item in ITEMS)


def score(answers: Answers) -> dict[str, ScoreResult]:
    total = 0
    missing = 0
    several: list[str] = []
    for code in _CODES:
        answer = answers.get(code)
        if answer is None:
            missing += 1
        elif isinstance(answer, int):
            total += answer
        elif len(answer) == 1:
            total += answer[0]
        else:
            several.append(code)
    if missing:
        return {
            "LEFS": ScoreResult(
                None,
                f"{missing} of 20 LEFS items unanswered; no published LEFS rule scores missing items, "
                "so every item is needed.",
            )
        }
    if several:
        return {
            "LEFS": ScoreResult(
                None,
                f"More than one box ticked for LEFS item {', '.join(several)}; no published LEFS rule says which "
                "counts.",
            )
        }
    return {"LEFS": ScoreResult(float(total))}


LEFS = register(
    Instrument(
        code="LEFS",
        name="Lower Extremity Functional Scale",
        items=ITEMS,
        sections=(
            Section(
                code="LEFS",
                title={"en": "The Lower Extremity Functional Scale"},
                instructions={"en": INSTRUCTIONS},
                items=_CODES,
            ),
        ),
        scores=(
            ScoreDefinition(
                code="LEFS",
                label={"en": "LEFS total (0-80)"},
                low=0,
                high=80,
                higher_is_better=True,
                mcid=Threshold(
                    value=9,
                    source=(
                        "Binkley JM, Stratford PW, Lott SA, Riddle DL. The Lower Extremity Functional Scale (LEFS): "
                        "scale development, measurement properties, and clinical application. Phys Ther "
                        "1999;79(4):371-383 (minimal clinically important difference 9 scale points)."
                    ),
                ),
            ),
        ),
        scoring=score,
        scoring_version="1",
        languages=("en",),
        source=(
            "Binkley JM, Stratford PW, Lott SA, Riddle DL, North American Orthopaedic Rehabilitation Research "
            "Network. The Lower Extremity Functional Scale (LEFS): scale development, measurement properties, and "
            "clinical application. Phys Ther 1999;79(4):371-383. Wording checked against the form reprinted with "
            "APTA permission (https://scribd.com/document/690708831/LEFS) and the form at "
            "https://www.surveymonkey.com/r/7PCP2LW; instructions also match the OSCAR eForm (worldoscar.org). "
            "The twenty activities, in this order and wording, also agree with several independent open-source "
            "LEFS implementations (Flutter, Swift, React and C# apps); answer codes 0-4 summed to 0-80 as in the "
            "Shirley Ryan AbilityLab Rehabilitation Measures Database entry ('All 20 items are scored with a "
            "maximum score 4 for each item. The columns on the scale are summed')."
        ),
        scoring_source="Binkley et al. 1999 (sum of the 20 items, 0-80).",
        licence=(
            "Published in Physical Therapy; the form is reprinted with permission of the American Physical Therapy "
            "Association and is free to use clinically."
        ),
        missing_rule=(
            "No published rule for missing items or for several boxes ticked: every one of the 20 items needs "
            "exactly one answer, else the LEFS is not scored."
        ),
        body_region="lower_limb",
    )
)
