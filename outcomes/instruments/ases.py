"""ASES Standardized Shoulder Assessment Form, patient self-evaluation: the ASES shoulder score (0-100).

Richards et al. (1994): ASES score = (10 - pain VAS) x 5 + (5/3) x the sum of the ten activities of
daily living (each 0-3) for the affected side, so pain and function give 50 points each. Only the
pain VAS and the ADL of the affected side enter the score, so only they are collected here.

Missing data: neither Richards 1994 nor Michener et al. 2002 publishes a rule for scoring with
missing items, and the form gives none, so the score needs the pain VAS and all ten ADL items
(the conservative rule). Several boxes ticked for one activity: no published rule, not scored.
The pain VAS is a 10 cm line on paper; here it is recorded to the whole centimetre, 0-10.
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

PAIN = Item(
    code="PAIN",
    text={"en": "How bad is your pain today?"},
    low=0,
    high=10,
    anchors={"en": ("No pain at all", "Pain as bad as it can be")},
)
ACTIVITIES = (
    "Put on a coat",
    "Sleep on your painful or affected side",
    "Wash back/do up bra in back",
    "Manage toileting",
    "Comb hair",
    "Reach a high shelf",
    "Lift 10 lbs. above shoulder",
    "Throw a ball overhand",
    "Do usual work",
    "Do usual sport",
)
OPTIONS = (
    Option(0, {"en": "Unable to do"}),
    Option(1, {"en": "Very difficult to do"}),
    Option(2, {"en": "Somewhat difficult"}),
    Option(3, {"en": "Not difficult"}),
)
ADL = tuple(
    Item(code=f"ADL{number}", text={"en": text}, options=OPTIONS) for number, text in enumerate(ACTIVITIES, start=1)
)
_ADL_CODES = tuple(item.code for item in ADL)


def score(answers: Answers) -> dict[str, ScoreResult]:
    problems: list[str] = []
    pain = answers.get("PAIN")
    if pain is not None and not isinstance(pain, int):
        pain = pain[0] if len(pain) == 1 else None
        if pain is None:
            problems.append("more than one pain value given")
    elif pain is None:
        problems.append("the pain scale is unanswered")
    adl_sum = 0
    unanswered = 0
    several: list[str] = []
    for code in _ADL_CODES:
        answer = answers.get(code)
        if answer is None:
            unanswered += 1
        elif isinstance(answer, int):
            adl_sum += answer
        elif len(answer) == 1:
            adl_sum += answer[0]
        else:
            several.append(code)
    if unanswered:
        problems.append(f"{unanswered} of 10 activities unanswered")
    if several:
        problems.append(f"more than one box ticked for {', '.join(several)}")
    if problems or pain is None:
        return {
            "ASES": ScoreResult(
                None, f"ASES not scored: {'; '.join(problems)}. No published ASES rule scores incomplete answers."
            )
        }
    # 5 * adl / 3 rather than (5 / 3) * adl: one rounding instead of two.
    return {"ASES": ScoreResult((10 - pain) * 5 + 5 * adl_sum / 3)}


ASES = register(
    Instrument(
        code="ASES",
        name="American Shoulder and Elbow Surgeons Standardized Shoulder Assessment Form (patient self-evaluation)",
        items=(PAIN, *ADL),
        sections=(
            Section(code="PAIN", title={"en": "Pain"}, instructions={"en": "Mark the line."}, items=("PAIN",)),
            Section(
                code="ADL",
                title={"en": "Activities of daily living"},
                instructions={
                    "en": "Circle the number in the box that indicates your ability to do the following activities "
                    "with the affected arm."
                },
                items=_ADL_CODES,
            ),
        ),
        scores=(
            ScoreDefinition(
                code="ASES",
                label={"en": "ASES shoulder score (0-100)"},
                low=0,
                high=100,
                higher_is_better=True,
                mcid=Threshold(
                    value=12.01,
                    source=(
                        "Tashjian RZ, Deloach J, Green A, Porucznik CA, Powell AP. Minimal clinically important "
                        "differences in ASES and Simple Shoulder Test scores after nonoperative treatment of rotator "
                        "cuff disease. J Bone Joint Surg Am 2010;92(2):296-303 (12.01 points, fifteen-item function "
                        "anchor; 16.92 and 16.72 with the pain and four-item anchors)."
                    ),
                ),
            ),
        ),
        scoring=score,
        scoring_version="1",
        languages=("en",),
        source=(
            "Richards RR, An KN, Bigliani LU, et al. A standardized method for the assessment of shoulder function. "
            "J Shoulder Elbow Surg 1994;3(6):347-352 (patient self-evaluation section). Activity wording checked "
            "against a REDCap-style survey of the form (Northwestern 'Shoulder Form', STU00020074) and public "
            "ASES implementations; pain question and anchors as quoted in published ASES validation studies."
        ),
        scoring_source=(
            "Richards et al. 1994; Michener LA, McClure PW, Sennett BJ. American Shoulder and Elbow Surgeons "
            "Standardized Shoulder Assessment Form, patient self-report section: reliability, validity, and "
            "responsiveness. J Shoulder Elbow Surg 2002;11(6):587-594. Formula: (10 - VAS) x 5 + (5/3) x ADL sum, "
            "as also given by the Indian Society for Surgery of the Hand (issh.org/outcome-measures-shoulder: "
            "'subtracting the VAS score from 10 and multiplying by 5 ... The raw score is multiplied by 5/3') and "
            "MDApp's ASES calculator (Pain = 5 x (10 - VAS), ADL = 5 x ADL raw score / 3). None of these, nor "
            "Richards 1994's abstract, gives a rule for missing items."
        ),
        licence="Published by the American Shoulder and Elbow Surgeons; free to use.",
        missing_rule=(
            "No published rule for missing items: the pain VAS and all ten ADL items of the affected side are "
            "needed, each with one answer, else the ASES is not scored."
        ),
        body_region="shoulder",
    )
)
