"""Spots medical content in a message sent through the public contact form.

The contact form takes non-medical questions only (appointments, directions, billing,
insurance, the practice). When a message looks medical, the form shows a notice and
offers a consultation instead. This module only decides whether a message looks
medical and why; it stores nothing and knows nothing about Django.

Text is compared case- and accent-insensitively ("hinchazón" == "HINCHAZON"), in
English and Spanish. Every pattern is a plain word-boundary alternation with bounded
repetition, compiled once at import, so a long message is scanned in linear time.
"""

import re
import unicodedata
from bisect import bisect_right
from enum import StrEnum


class Signal(StrEnum):
    """A kind of medical content. The order here is the order `medical_signals` reports."""

    SYMPTOM = "symptom"
    DIAGNOSIS = "diagnosis"
    MEDICATION = "medication"
    BODY_PAIN = "body_pain"
    BIRTH_DATE = "birth_date"
    TEST_RESULT = "test_result"


# How many words may separate a body part from a pain word, or a birth word from a date.
_BODY_PAIN_WINDOW = 6
_BIRTH_DATE_WINDOW = 8
# A full date with a year before this reads as a date of birth, not an appointment.
_FIRST_NON_BIRTH_YEAR = 2010


def _words(*alternatives: str) -> re.Pattern[str]:
    """One case-insensitive pattern matching any alternative as whole words."""
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", re.IGNORECASE)


def _normalise(text: str) -> str:
    """Lower-case text without accents: 'Me DUELE la muñeca' -> 'me duele la muneca'."""
    decomposed = unicodedata.normalize("NFKD", text.replace("\u2019", "'").replace("\u2018", "'"))
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


# Phrases that contain a medical-looking word but are ordinary front-desk business.
# They are blanked out before anything else is looked at.
_BENIGN = _words(
    # "Do you work with personal injury attorneys?" is a billing question.
    r"(?:personal[- ]injury|p\.?i\.?)\s+(?:attorneys?|lawyers?|cases?|liens?|claims?|law|firms?)",
    r"(?:abogad[oa]s?|casos?|demandas?|reclamos?)\s+(?:de\s+)?lesiones\s+personales",
    # How the practice's injections are guided is a question about the service.
    r"(?:ultrasound|ultrasonido|ecografia|x-?ray|fluoroscop\w*)[\s-]*guid\w*",
    r"guided\s+(?:by|with|under)\s+(?:ultrasound|x-?ray|fluoroscopy)",
    r"ultrasound\s+guidance",
    r"guiad[oa]s?\s+(?:por|con)\s+(?:ultrasonido|ecografia)",
    r"con\s+guia\s+(?:de\s+)?(?:ultrasonido|ecografica)",
    # Idioms: "parking was a pain", "it wouldn't hurt to ask" (but not "a pain in my knee").
    r"hurt\s+to\s+ask",
    r"(?:was|is|'s|be|such|what|bit\s+of)\s+a\s+(?:real\s+|total\s+|huge\s+|big\s+)?pain(?!\s+in\s+(?:my|his|her)\b)",
    # Dolores is a common first name as well as "pains".
    r"(?:me\s+llamo|mi\s+nombre\s+es|soy|sra\.?|senora|dona|my\s+name\s+is|this\s+is|i'?m"
    r"|saludos,?|atentamente,?|gracias,?|cordialmente,?)\s+dolores",
)

_SYMPTOM = _words(
    # English
    r"pains?",
    r"painful",
    r"hurts?",
    r"hurting",
    r"aches?",
    r"ached",
    r"aching",
    r"achy",
    r"(?:head|back|stomach)aches?",
    r"sore(?:ness)?",
    r"swell(?:s|ing)?",
    r"swollen",
    r"numb(?:ness)?",
    r"tingl(?:e|es|ing|y)",
    r"stiff(?:ness)?",
    r"inflamed",
    r"inflammation",
    r"throbbing",
    r"spasms?",
    r"cramp(?:s|ing)?",
    r"weakness",
    r"limp(?:s|ing)?",
    r"bruis(?:ed|ing)",
    r"(?:popping|clicking|grinding|locking)(?:\s+(?:sound|noise|up))?",
    r"giv(?:es|ing)\s+out",
    r"killing\s+me",
    r"(?:can'?t|cannot|can\s+barely|could\s+not|couldn'?t|unable\s+to)\s+"
    r"(?:walk|bend|lift|sleep|straighten|climb\s+stairs|put\s+weight)",
    r"(?:trouble|difficulty|problems?)\s+(?:walking|sleeping|bending|climbing\s+stairs)",
    # Spanish
    r"dolor(?:es)?",
    r"doloros[oa]s?",
    r"duelen?",
    r"dolian?",
    r"adolorid[oa]s?",
    r"dolorid[oa]s?",
    r"lastim(?:e|o|ad[oa]s?|ando|aba)",
    r"hinchazon",
    r"hinchad[oa]s?",
    r"se\s+me\s+hincha",
    r"inflamad[oa]s?",
    r"inflamacion",
    r"entumecid[oa]s?",
    r"entumid[oa]s?",
    r"entumecimiento",
    r"hormigueos?",
    r"rigidez",
    r"rigid[oa]s?",
    r"calambres?",
    r"espasmos?",
    r"debilidad",
    r"cojera",
    r"cojeo",
    r"cojeando",
    r"punzadas?",
    r"ardor",
    r"molestias?\s+en\s+(?:el|la|los|las|mi|mis)",
    r"no\s+puedo\s+(?:caminar|doblar|levantar|dormir|subir\s+escaleras|apoyar)",
    r"me\s+cuesta\s+(?:caminar|doblar|levantar|dormir|subir)",
)

_DIAGNOSIS = _words(
    # English: named conditions, with the commonest misspellings
    r"(?:osteo|rheumatoid\s+|psoriatic\s+)?(?:arthritis|arthritus|athritis|artheritis|arthrosis)",
    r"arthritic",
    r"tendini?tis|tendonitis|tendinopathy|tendinosis",
    r"bursitis",
    r"(?:plantar\s+)?fasc?iitis",
    r"epicondylitis",
    r"capsulitis",
    r"frozen\s+shoulder",
    r"(?:tennis|golfer'?s)\s+elbow",
    r"(?:jumper'?s|runner'?s)\s+knee",
    r"carpal\s+tunnel",
    r"trigger\s+finger",
    r"sciatica",
    r"stenosis",
    r"scoliosis",
    r"spondylo\w+",
    r"osteoporosis|osteopenia",
    r"chondromalacia",
    r"(?:osteo|avascular\s+)necrosis",
    r"gout",
    r"lupus",
    r"fibromyalgia",
    r"diabet(?:es|ic)",
    r"cancer",
    r"tumou?rs?",
    r"neuropathy",
    r"hypertension",
    r"high\s+blood\s+pressure",
    r"dysplasia",
    r"impingement",
    r"(?:herniated|bulging|slipped|ruptured|degenerated)\s+dis[ck]s?",
    r"degenerative\s+(?:dis[ck]|joint|disease)",
    r"bone[\s-]+on[\s-]+bone",
    r"wear\s+and\s+tear",
    r"dislocat(?:ed|ion)",
    r"fractur(?:e|es|ed)",
    r"broke\s+(?:my|his|her|the|a|both)",
    r"sprain(?:s|ed)?",
    r"pulled\s+(?:a\s+|my\s+)?(?:muscle|hamstring|groin)",
    r"injur(?:y|ies|ed)",
    r"(?:torn|tore|tear|ruptured?)\s+(?:(?:my|his|her|the|a|an|partial|full|thickness|complete)\s+){0,3}"
    r"(?:acl|mcl|pcl|lcl|meniscus|miniscus|menicus|labrum|rotator\s+cuff|achilles|tendons?|ligaments?"
    r"|cartilage|muscle|hamstring|biceps?|quad)",
    r"(?:acl|mcl|pcl|lcl|meniscus|miniscus|meniscal|labral|labrum|rotator\s+cuff|achilles)\s+"
    r"(?:tears?|rupture|injury|reconstruction|repair)",
    r"(?:partial|full)[\s-]+thickness\s+tear",
    r"diagnosed",
    r"(?:my|had|after|since|post|recent|previous|prior)\s+(?:knee\s+|hip\s+|back\s+|shoulder\s+)?surgery",
    r"surgery\s+on\s+my",
    # Spanish
    r"(?:osteo)?artritis(?:\s+reumatoide)?",
    r"(?:osteo)?artrosis",
    r"tendinitis|tendinopatia|tendinosis",
    r"bursitis",
    r"fascitis(?:\s+plantar)?",
    r"epicondilitis",
    r"capsulitis",
    r"hombro\s+congelado",
    r"codo\s+de\s+(?:tenista|golfista)",
    r"tunel\s+(?:del\s+)?carpiano",
    r"ciatica",
    r"estenosis",
    r"escoliosis",
    r"osteoporosis|osteopenia",
    r"condromalacia",
    r"necrosis(?:\s+avascular)?",
    r"(?:tengo|padezco|ataque\s+de)\s+gota",
    r"fibromialgia",
    r"diabetes",
    r"diabetic[oa]s?",
    r"tumor(?:es)?",
    r"neuropatia",
    r"hipertension",
    r"presion\s+alta",
    r"displasia",
    r"pinzamiento",
    r"hernias?(?:\s+(?:discal|de\s+disco))?",
    r"disco\s+(?:herniado|abultado|desplazado)",
    r"desgarr(?:o|os|e|ado|ada)",
    r"esguinces?",
    r"fractur(?:a|as|ado|ada|e|o)",
    r"luxacion",
    r"luxad[oa]",
    r"dislocad[oa]",
    r"lesion(?:es)?",
    r"lesionad[oa]s?",
    r"lesione|lesiono",
    r"(?:menisco|ligamento(?:\s+cruzado)?|tendon(?:\s+de\s+aquiles)?|manguito\s+rotador|cartilago|hueso)s?"
    r"\s+(?:\w+\s+)?rot[oa]s?",
    r"(?:rotura|ruptura)\s+(?:del?\s+)?(?:\w+\s+)?(?:menisco|ligamento|tendon|manguito|cartilago|labrum)",
    r"me\s+rompi|se\s+me\s+rompio",
    r"desgaste(?:\s+de\s+cartilago)?",
    r"me\s+diagnosticaron|diagnosticad[oa]",
    r"me\s+operaron|me\s+opere|operad[oa]\s+de",
    r"(?:tuve|tuvo)\s+(?:una\s+)?cirugia|(?:despues\s+de|mi)\s+(?:la\s+)?cirugia",
)

_MEDICATION = _words(
    # English, generic and brand names
    r"ibuprofen|ibuprofin|ibuprophen|advil|motrin",
    r"naproxen|aleve",
    r"acetaminophen|tylenol|paracetamol",
    r"aspirin",
    r"celebrex|celecoxib|meloxicam|mobic|diclofenac|voltaren",
    r"gabapentin|neurontin|pregabalin|lyrica",
    r"tramadol|oxycodone|hydrocodone|vicodin|norco|percocet|codeine|morphine|opioids?",
    r"prednisone|methylprednisolone|medrol",
    r"cortisone|(?:cortico)?steroids?",
    r"hyaluronic(?:\s+acid)?|synvisc|euflexxa|orthovisc|gel\s+(?:shots?|injections?)",
    r"blood\s+thinners?|warfarin|coumadin|eliquis|xarelto|plavix",
    r"metformin|insulin|lisinopril|statins?|lipitor",
    r"muscle\s+relax(?:ers?|ants?)|cyclobenzaprine|flexeril",
    r"pain\s*(?:killers?|pills|meds|medications?)",
    r"anti-?\s?inflammator(?:y|ies)|nsaids?",
    r"medications?|meds",
    r"prescribed|prescriptions?",
    # Spanish
    r"ibuprofeno|naproxeno|acetaminofen(?:o)?|aspirina|diclofenaco",
    r"gabapentina|pregabalina|prednisona|cortisona",
    r"(?:cortico)?esteroides?|corticoides?",
    r"acido\s+hialuronico",
    r"anti-?\s?inflamatorios?|analgesicos?|calmantes?",
    r"relajantes?\s+musculare?s?",
    r"anticoagulantes?",
    r"insulina|metformina",
    r"pastillas?\s+para\s+el\s+dolor",
    r"medicamentos?",
    r"me\s+recet(?:o|aron)|recetad[oa]s?",
    # A dose: "400 mg", "2.5mg", "10 miligramos"
    r"\d+(?:[.,]\d+)?\s?(?:mg|mcg|milligrams?|miligramos?)",
)

_TEST_RESULT = _words(
    # English
    r"m\.?r\.?i\.?s?",
    r"x[\s-]?rays?",
    r"(?:ct|c\.t\.|cat|bone|pet)\s+scans?",
    r"ultrasounds?",
    r"emg|nerve\s+conduction",
    r"bone\s+density|dexa",
    r"blood\s*(?:tests?|work|panel|results?)",
    r"lab\s+(?:tests?|results?|work|reports?)|labs",
    r"(?:test|scan|imaging)\s+results?",
    r"my\s+(?:test\s+)?results?",
    r"(?:radiology|imaging)\s+reports?",
    r"radiologist",
    r"biops(?:y|ies)",
    r"arthrogram",
    r"ekg|ecg",
    # Spanish
    r"resonancias?(?:\s+magneticas?)?",
    r"radiografias?",
    r"rayos?\s+x",
    r"tomografias?",
    r"ultrasonidos?",
    r"ecografias?",
    r"electromiografia",
    r"densitometria",
    r"(?:analisis|examen(?:es)?|pruebas?)\s+de\s+(?:sangre|laboratorio|orina)",
    r"resultados?\s+de\s+(?:(?:mi|mis|la|las|el|los)\s+)?"
    r"(?:estudios?|analisis|examen(?:es)?|pruebas?|laboratorio|resonancia|radiografia)",
    r"mis\s+resultados",
    r"estudios?\s+de\s+imagen",
    r"biopsias?",
)

# BODY_PAIN: a body part near a pain or injury word.
_BODY_PART = _words(
    # English. "back" only where it is clearly the body: "call me back" is not.
    r"knees?|hips?|shoulders?|spine|ankles?|wrists?|elbows?|hands?|foot|feet|necks?",
    r"tendons?|ligaments?|cartilage|joints?|legs?|arms?|heels?|fingers?|thumbs?|toes?",
    r"(?:my|his|her|their|lower|upper|mid|middle|low)\s+back",
    r"back(?=\s+(?:pain|aches?|hurts?|injury|spasms?|stiffness|is|has)\b)",
    r"backaches?",
    # Spanish
    r"rodillas?|caderas?|hombros?|espalda|columna|tobillos?|munecas?|codos?|manos?|pies?|cuello",
    r"tendon(?:es)?|ligamentos?|cartilagos?|articulacion(?:es)?|piernas?|brazos?|talon(?:es)?|dedos?",
)

_PAIN_WORD = _words(
    # English
    r"pains?|painful|hurts?|hurting|aches?|ached|aching|achy|sore(?:ness)?",
    r"injur(?:y|ies|ed)|tears?|tore|torn|swollen|swell(?:s|ing)?|stiff(?:ness)?",
    r"sprain(?:s|ed)?|strain(?:s|ed)?|broken|broke\s+(?:my|his|her|the|a|both)|fractur(?:e|es|ed)",
    r"numb(?:ness)?|tingling|inflamed|twisted|dislocated|throbbing|killing\s+me|giv(?:es|ing)\s+out",
    r"popping|clicking|locking",
    # Spanish
    r"dolor(?:es)?|doloros[oa]s?|duelen?|dolian?|adolorid[oa]s?|dolorid[oa]s?",
    r"lastim(?:e|o|ad[oa]s?|ando|aba)|lesion(?:es)?|lesionad[oa]s?|lesione|lesiono",
    r"desgarr(?:o|os|e|ado|ada)|hinchad[oa]s?|hinchazon|se\s+me\s+hincha|inflamad[oa]s?",
    r"rigid[oa]s?|rigidez|torci|torcio|torcid[oa]s?|esguinces?|fractur(?:a|as|ado|ada|e|o)",
    r"rot[oa]s?|rompi|rompio|entumid[oa]s?|entumecid[oa]s?|hormigueo",
    r"molestias?\s+en\s+(?:el|la|los|las|mi|mis)",
)

# BIRTH_DATE: a birth word near a date, or a full date from before 2010.
_BIRTH_WORD = _words(
    r"born",
    r"birth(?:s|day|days|date|dates)?",
    r"dob",
    r"d\.o\.b\.?",
    r"naci(?:o|mos|eron)?",
    r"nacid[oa]",
    r"nacimiento",
    r"cumpleanos",
)

_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec"
    r"|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre)"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"

# Full dates, each with the year in a group named "year".
_NUMERIC_DATE = re.compile(
    r"(?<![\w/.-])(?P<first>\d{1,2})[/.-](?P<second>\d{1,2})[/.-](?P<year>\d{4}|\d{2})(?![\w/-]|\.\d)"
)
_ISO_DATE = re.compile(r"(?<![\w/.-])(?P<year>\d{4})-\d{1,2}-\d{1,2}(?![\w/-]|\.\d)")
_WORDED_DATE = re.compile(
    rf"\b(?:{_MONTH}\.?\s+{_DAY},?\s+(?P<y1>\d{{4}})"
    rf"|{_DAY}\s+(?:of\s+)?{_MONTH}\.?,?\s+(?P<y2>\d{{4}})"
    rf"|\d{{1,2}}\s+de\s+{_MONTH}\s+(?:de|del)\s+(?P<y3>\d{{4}}))\b",
    re.IGNORECASE,
)
# Anything date-like that makes a nearby birth word a birth date: a date, a year, a month.
# "may" on its own is left out: "May I ask whether you need my date of birth?" has no date.
_DATE_PART = re.compile(
    rf"(?<![\w/.-])\d{{1,2}}[/.-]\d{{1,2}}(?:[/.-]\d{{2,4}})?(?![\w/-]|\.\d)"
    rf"|\b(?:19|20)\d{{2}}\b"
    r"|\b(?:january|february|march|april|june|july|august|september|october|november|december"
    r"|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre)\b"
    rf"|\b{_MONTH}\.?\s+\d{{1,2}}\b",
    re.IGNORECASE,
)

_WORD = re.compile(r"\w+")


def _full_year(year: str) -> int:
    """A four-digit year; two digits read as 2000-2029 or 1930-1999."""
    value = int(year)
    if len(year) == 4:
        return value
    return 2000 + value if value < 30 else 1900 + value


def _is_old(year: str) -> bool:
    return 1900 <= _full_year(year) < _FIRST_NON_BIRTH_YEAR


def _has_old_date(text: str) -> bool:
    """True if text holds a full date from before 2010, such as 04/12/1957 or March 5, 1949."""
    for match in _NUMERIC_DATE.finditer(text):
        first, second = int(match["first"]), int(match["second"])
        plausible = 1 <= first <= 31 and 1 <= second <= 31 and min(first, second) <= 12
        if plausible and _is_old(match["year"]):
            return True
    if any(_is_old(match["year"]) for match in _ISO_DATE.finditer(text)):
        return True
    for match in _WORDED_DATE.finditer(text):
        year = match["y1"] or match["y2"] or match["y3"]
        if year and _is_old(year):
            return True
    return False


def _word_spans(text: str, pattern: re.Pattern[str], starts: list[int]) -> list[tuple[int, int]]:
    """(first word, last word) indexes of each match of pattern in text."""
    spans: list[tuple[int, int]] = []
    for match in pattern.finditer(text):
        first = max(bisect_right(starts, match.start()) - 1, 0)
        last = max(bisect_right(starts, match.end() - 1) - 1, first)
        spans.append((first, last))
    return spans


def _near(text: str, one: re.Pattern[str], other: re.Pattern[str], window: int, starts: list[int]) -> bool:
    """True if a match of one is at most window words away from a match of other."""
    one_spans = _word_spans(text, one, starts)
    if not one_spans:
        return False
    covered: set[int] = set()
    for first, last in _word_spans(text, other, starts):
        covered.update(range(first, last + 1))
    return any(any(index in covered for index in range(first - window, last + window + 1)) for first, last in one_spans)


def medical_signals(text: str) -> list[Signal]:
    """The kinds of medical content found in text, each once, in Signal's order; [] when none."""
    if not text or not text.strip():
        return []
    plain = _BENIGN.sub(" ", _normalise(text))
    starts = [match.start() for match in _WORD.finditer(plain)]
    found = {
        Signal.SYMPTOM: _SYMPTOM.search(plain) is not None,
        Signal.DIAGNOSIS: _DIAGNOSIS.search(plain) is not None,
        Signal.MEDICATION: _MEDICATION.search(plain) is not None,
        Signal.BODY_PAIN: _near(plain, _BODY_PART, _PAIN_WORD, _BODY_PAIN_WINDOW, starts),
        Signal.BIRTH_DATE: _has_old_date(plain) or _near(plain, _BIRTH_WORD, _DATE_PART, _BIRTH_DATE_WINDOW, starts),
        Signal.TEST_RESULT: _TEST_RESULT.search(plain) is not None,
    }
    return [signal for signal in Signal if found[signal]]


def looks_medical(text: str) -> bool:
    """True if text holds any kind of medical content (see `medical_signals`)."""
    return bool(medical_signals(text))
