"""The contact form's medical-content detector: what it flags, what it leaves to the front desk."""

import string
import time
from pathlib import Path

import pytest

from lib.guard.evaluation import load_corpus, measure
from lib.medical_guard import Assessment, Signal, assess, looks_medical, medical_signals

CORPUS = Path(__file__).parent / "guard_corpus.jsonl"
HOLDOUT = Path(__file__).parent / "guard_holdout.jsonl"

S = Signal

MEDICAL_ENGLISH: list[tuple[str, list[Signal]]] = [
    (
        "My right knee has hurt since I fell in March, I take ibuprofen 400 mg",
        [S.SYMPTOM, S.MEDICATION, S.BODY_PAIN],
    ),
    ("I have bad arthritis in both hips and the pain is worse at night.", [S.SYMPTOM, S.DIAGNOSIS, S.BODY_PAIN]),
    ("My MRI shows a torn meniscus, is PRP an option for me?", [S.DIAGNOSIS, S.TEST_RESULT]),
    (
        "DOB 04/12/1957. I had a cortisone shot in my shoulder last year and it wore off.",
        [S.MEDICATION, S.BIRTH_DATE],
    ),
    ("MY LOWER BACK IS KILLING ME AND MY LEFT LEG GOES NUMB", [S.SYMPTOM, S.BODY_PAIN]),
    ("Diagnosed with tendonitis in my elbow (tennis elbow), the x-ray was normal.", [S.DIAGNOSIS, S.TEST_RESULT]),
    ("i tore my ACL skiing in 2019 and the knee still swells after hikes", [S.SYMPTOM, S.DIAGNOSIS, S.BODY_PAIN]),
    (
        "I was born on 3/4/1958 and I'm on blood thinners (Eliquis), can I still get PRP?",
        [S.MEDICATION, S.BIRTH_DATE],
    ),
    ("Swollen ankle after a sprain two weeks ago, I can barely walk.", [S.SYMPTOM, S.DIAGNOSIS, S.BODY_PAIN]),
    (
        "Can the doctor look at my lab results before the visit? My rheumatologist says it is rheumatoid arthritis.",
        [S.DIAGNOSIS, S.TEST_RESULT],
    ),
    ("Neck stiffness every morning and tingling in my fingers for 3 months now", [S.SYMPTOM, S.BODY_PAIN]),
    ("Had a herniated disc at L4-L5, taking gabapentin 300mg three times a day.", [S.DIAGNOSIS, S.MEDICATION]),
    ("My wife's shoulder has been sore for weeks and she cant lift her arm above her head", [S.SYMPTOM, S.BODY_PAIN]),
    (
        "Hi, my DOB is March 5, 1949. I'd like to email you my ultrasound report.",
        [S.BIRTH_DATE, S.TEST_RESULT],
    ),
    ("plantar fasciitis in both feet, tried steroid injections, nothing helped", [S.DIAGNOSIS, S.MEDICATION]),
    (
        "my knee hurts real bad, they said its a torn miniscus and i been taking ibuprofin",
        [S.SYMPTOM, S.DIAGNOSIS, S.MEDICATION, S.BODY_PAIN],
    ),
    (
        "I injured my wrist at work and the urgent care x rays were inconclusive",
        [S.DIAGNOSIS, S.BODY_PAIN, S.TEST_RESULT],
    ),
    ("Dr. told me I have bone on bone in my left hip. Is stem cell better than replacement?", [S.DIAGNOSIS]),
    ("I have a pain in my knee when I climb stairs", [S.SYMPTOM, S.BODY_PAIN]),
    ("my dob is 7/22/61", [S.BIRTH_DATE]),
]

MEDICAL_SPANISH: list[tuple[str, list[Signal]]] = [
    ("Me duele la rodilla derecha desde hace dos meses.", [S.SYMPTOM, S.BODY_PAIN]),
    ("Tengo artrosis en la cadera y tomo ibuprofeno 600 mg", [S.DIAGNOSIS, S.MEDICATION]),
    ("La resonancia muestra un desgarro del manguito rotador", [S.DIAGNOSIS, S.TEST_RESULT]),
    (
        "Nací el 5 de mayo de 1950 y me pusieron una inyección de cortisona en el hombro",
        [S.MEDICATION, S.BIRTH_DATE],
    ),
    ("tengo la rodilla hinchada y no puedo caminar bien", [S.SYMPTOM, S.BODY_PAIN]),
    ("Fecha de nacimiento: 12/08/1962. Mi radiografía salió con artritis", [S.DIAGNOSIS, S.BIRTH_DATE, S.TEST_RESULT]),
    ("ME LASTIME EL TOBILLO JUGANDO FUTBOL", [S.SYMPTOM, S.BODY_PAIN]),
    ("Sufro de tendinitis en el codo y tomo naproxeno", [S.DIAGNOSIS, S.MEDICATION]),
    ("Tengo dolor de espalda baja y hormigueo en la pierna izquierda", [S.SYMPTOM, S.BODY_PAIN]),
    ("Me hicieron una resonancia magnetica y salio hernia de disco", [S.DIAGNOSIS, S.TEST_RESULT]),
    (
        "mi mama tiene 80 años, le duelen mucho las rodillas y toma paracetamol",
        [S.SYMPTOM, S.MEDICATION, S.BODY_PAIN],
    ),
    ("Tengo un esguince en la muñeca y está muy inflamada", [S.SYMPTOM, S.DIAGNOSIS, S.BODY_PAIN]),
    ("Hola, tuve un accidente de carro y me lesioné el cuello", [S.DIAGNOSIS, S.BODY_PAIN]),
    ("Los resultados de mis análisis de sangre salieron mal, tengo diabetes", [S.DIAGNOSIS, S.TEST_RESULT]),
    (
        "Rigidez en los hombros por las mañanas, me diagnosticaron artritis reumatoide",
        [S.SYMPTOM, S.DIAGNOSIS, S.BODY_PAIN],
    ),
    (
        "Mi cumpleaños es el 3 de junio de 1955, quiero saber si el PRP sirve para la artrosis de rodilla",
        [S.DIAGNOSIS, S.BIRTH_DATE],
    ),
    ("Me llamo Dolores Ramírez y me duele la cadera cuando subo escaleras", [S.SYMPTOM, S.BODY_PAIN]),
    ("el medico me receto tramadol 50 mg para el dolor del hombro", [S.SYMPTOM, S.MEDICATION, S.BODY_PAIN]),
    ("tengo el ligamento cruzado roto, ¿me pueden ayudar sin cirugia?", [S.DIAGNOSIS, S.BODY_PAIN]),
    ("tengo una molestia en la rodilla", [S.SYMPTOM, S.BODY_PAIN]),
    ("Mi hijo nació en 2015, ¿atienden niños?", [S.BIRTH_DATE]),
]

FRONT_DESK_ENGLISH: list[str] = [
    "Do you treat knees?",
    "What are your hours in Encino?",
    "Is there parking?",
    "Do you take Medicare?",
    "Do you take my insurance? I have Blue Shield PPO.",
    "How much does a consultation cost?",
    "Can I reschedule my appointment on Tuesday?",
    "I'd like to know the price of the consultation",
    "My mother wants information about your practice",
    "How do I request my medical records?",
    "Do you offer PRP? What about stem cell treatments for shoulders and hips?",
    "I have an appointment on 12/3/2026, can I move it to the afternoon?",
    "What is the address of the Los Angeles office? Please call me back at (818) 555-0142.",
    "Do you work with personal injury attorneys or only with insurance?",
    "Are your injections ultrasound-guided?",
    "IS THE ENCINO OFFICE OPEN ON SATURDAYS??",
    "hi can i get a recipt for my last vist for my insurence",
    "It wouldn't hurt to ask: do you validate parking at the Ventura Blvd building?",
    "My birthday is coming up, do you sell gift certificates for a consultation?",
    "May I bring my daughter to translate? She was born here in LA.",
    "Do I need to bring my date of birth and ID to the first appointment?",
    "Is the office at 16260 Ventura Blvd, Suite 1010, Encino, CA 91436?",
    "Please email the new patient forms to me before March 3, thanks!",
    "I'm going to be back in town on 01/15/2027, can we book then?",
    "Can you call me back? My knee appointment is Tuesday and parking was a pain.",
    "It's a real pain to find parking in Encino, is there valet?",
]

FRONT_DESK_SPANISH: list[str] = [
    "¿Tienen estacionamiento?",
    "¿Aceptan seguro médico?",
    "¿Hablan español en la oficina de Encino?",
    "¿Cuál es el horario de la oficina de Los Ángeles?",
    "Quisiera cambiar mi cita del 12/3/2026 al jueves por la tarde.",
    "¿Cuánto cuesta la consulta?",
    "¿Tratan problemas de rodilla y hombro?",
    "¿Ofrecen PRP o células madre?",
    "Me llamo Dolores Ramírez y quiero confirmar mi cita del lunes.",
    "¿Cómo solicito una copia de mi expediente médico?",
    "Mi mamá quiere información sobre la práctica.",
    "¿Aceptan Medicare?",
    "¿Cuál es la dirección exacta? ¿Está cerca de Ventura Blvd?",
    "Necesito una factura de mi pago para el seguro",
    "¿Puedo pagar con tarjeta de crédito o en efectivo?",
    "Llámenme al (818) 555-0142 por favor, gracias",
    "¿Se puede llegar a pie desde la estación del metro?",
    "Disculpe la molestia, ¿tienen citas los sábados?",
    "¿Mi esposo puede acompañarme a la consulta?",
    "QUIERO SABER SI ATIENDEN EN ENCINO LOS VIERNES",
    "hola, nesecito cancelar mi sita de mañana",
    "¿Las inyecciones son guiadas por ultrasonido?",
    "¿Trabajan con abogados de lesiones personales?",
    "¿Necesitan mi fecha de nacimiento para hacer la cita?",
    "¿Tienen estacionamiento para sillas de ruedas cerca de la entrada?",
]


@pytest.mark.parametrize(("text", "expected"), MEDICAL_ENGLISH)
def test_it_flags_english_medical_messages_with_their_signals(text: str, expected: list[Signal]) -> None:
    assert medical_signals(text) == expected
    assert looks_medical(text) is True


@pytest.mark.parametrize(("text", "expected"), MEDICAL_SPANISH)
def test_it_flags_spanish_medical_messages_with_their_signals(text: str, expected: list[Signal]) -> None:
    assert medical_signals(text) == expected
    assert looks_medical(text) is True


@pytest.mark.parametrize("text", FRONT_DESK_ENGLISH)
def test_it_leaves_english_front_desk_questions_alone(text: str) -> None:
    assert medical_signals(text) == []
    assert looks_medical(text) is False


@pytest.mark.parametrize("text", FRONT_DESK_SPANISH)
def test_it_leaves_spanish_front_desk_questions_alone(text: str) -> None:
    assert medical_signals(text) == []
    assert looks_medical(text) is False


def test_it_has_enough_examples_in_each_language() -> None:
    assert len(MEDICAL_ENGLISH) >= 12
    assert len(MEDICAL_SPANISH) >= 12
    assert len(FRONT_DESK_ENGLISH) >= 12
    assert len(FRONT_DESK_SPANISH) >= 12
    assert len(MEDICAL_ENGLISH) + len(MEDICAL_SPANISH) >= 25
    assert len(FRONT_DESK_ENGLISH) + len(FRONT_DESK_SPANISH) >= 25


@pytest.mark.parametrize(
    ("with_accents", "without_accents", "expected"),
    [
        ("hinchazón", "hinchazon", [S.SYMPTOM]),
        ("Me duele la muñeca", "me duele la muneca", [S.SYMPTOM, S.BODY_PAIN]),
        ("Tengo una lesión en el tendón", "TENGO UNA LESION EN EL TENDON", [S.DIAGNOSIS, S.BODY_PAIN]),
        ("radiografía de la articulación", "Radiografia de la articulacion", [S.TEST_RESULT]),
        ("Nací en 1960", "naci en 1960", [S.BIRTH_DATE]),
        ("¿Aceptan seguro médico?", "aceptan seguro medico?", []),
    ],
)
def test_it_ignores_accents_and_case(with_accents: str, without_accents: str, expected: list[Signal]) -> None:
    assert medical_signals(with_accents) == expected
    assert medical_signals(without_accents) == expected
    assert medical_signals(with_accents.upper()) == expected


def test_it_reports_each_signal_once_in_signal_order() -> None:
    # Every kind appears, twice, in the reverse of Signal's order.
    text = (
        "Since my knee replacement and my arthroscopy. "
        "My MRI and my x-ray are attached. DOB 1/2/1950, born 1/2/1950. "
        "My knee hurts, my hip is sore. I take Advil and Tylenol. "
        "I have arthritis and bursitis. The pain and the swelling are bad."
    )
    signals = medical_signals(text)
    assert signals == list(Signal)
    assert len(signals) == len(set(signals))


def test_it_reports_a_repeated_word_once() -> None:
    assert medical_signals("pain " * 50) == [S.SYMPTOM]


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_it_finds_nothing_in_an_empty_message(text: str) -> None:
    assert medical_signals(text) == []
    assert looks_medical(text) is False


def test_it_only_reads_a_date_as_a_birth_date_with_birth_words_or_an_old_year() -> None:
    assert medical_signals("I have an appointment on 12/3/2026") == []
    assert medical_signals("Can I come in on March 3, 2026?") == []
    assert medical_signals("born 12/3/1980") == [S.BIRTH_DATE]
    assert medical_signals("04/12/1957") == [S.BIRTH_DATE]
    assert medical_signals("D.O.B.: 1961-07-22") == [S.BIRTH_DATE]
    assert medical_signals("fecha de nacimiento 3 de marzo") == [S.BIRTH_DATE]


def test_it_needs_a_pain_word_near_a_body_part_for_body_pain() -> None:
    assert medical_signals("My knee hurts") == [S.SYMPTOM, S.BODY_PAIN]
    far = "My knee appointment is on Tuesday at the Encino office with Dr. Lee, and honestly the drive hurts"
    assert medical_signals(far) == [S.SYMPTOM]
    assert medical_signals("Do you treat knees, hips and shoulders?") == []


def test_it_keeps_service_names_out_of_the_signals() -> None:
    assert medical_signals("Do you offer PRP, stem cell or bone marrow concentrate injections?") == []
    assert medical_signals("¿Ofrecen plasma rico en plaquetas (PRP) en Encino?") == []


def test_it_processes_a_long_front_desk_message() -> None:
    text = "Hello, what are your hours in Encino on Saturday and is there parking near the office? " * 120
    assert len(text) >= 10_000
    assert medical_signals(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "1/" * 5_000,
        "a " * 5_000,
        "-" * 10_000,
        "my " * 3_000 + "back",
        "born " * 2_000 + "12/12/12 " * 200,
    ],
)
def test_it_copes_with_long_repetitive_input(text: str) -> None:
    started = time.perf_counter()
    assert medical_signals(text) == ([S.BIRTH_DATE] if text.startswith("born") else [])
    assert time.perf_counter() - started < 1.0


def test_it_still_flags_medical_content_at_the_end_of_a_long_message() -> None:
    text = "Is there parking near the Encino office? " * 250 + "Also my shoulder is swollen."
    assert len(text) >= 10_000
    assert medical_signals(text) == [S.SYMPTOM, S.BODY_PAIN]


# --- Classes the keyword guard used to miss: word forms, nouns, Spanish spellings, operations ---

MISSED_BEFORE: list[tuple[str, list[Signal]]] = [
    # Symptoms as nouns, in both languages, and their Spanish spellings without accents.
    ("Tengo mucho enrojecimiento y calor en el tobillo", [S.SYMPTOM, S.BODY_PAIN]),
    ("The tingling in my feet is worse", [S.SYMPTOM, S.BODY_PAIN]),
    ("siento hormigueo en los pies desde hace meses", [S.SYMPTOM, S.BODY_PAIN]),
    ("SE ME INCHA EL PIE EN LA TARDE Y ME ARDE", [S.SYMPTOM, S.BODY_PAIN]),
    ("I get pins and needles down my arm when I look up", [S.SYMPTOM, S.BODY_PAIN]),
    ("Is fever a side effect of the bone marrow procedure?", [S.SYMPTOM]),
    # Medication names as a Spanish pharmacy writes them, brands and misspellings.
    ("mi esposo toma warfarina", [S.MEDICATION]),
    ("el doctor me dio naproxeno y diclofenaco", [S.MEDICATION]),
    ("i take eliquis for afib", [S.DIAGNOSIS, S.MEDICATION]),
    ("been taking tylonol and advill", [S.MEDICATION]),
    # Named operations and reconstructions, and having had one.
    ("I had a hip replacement, can I still get PRP in the other hip?", [S.PROCEDURE]),
    ("got a lumbar fusion L4-L5 in 2016", [S.PROCEDURE]),
    ("me hicieron una artroscopia en el hombro", [S.PROCEDURE]),
    ("me reconstruyeron el ligamento cruzado anterior", [S.PROCEDURE]),
    ("a mi papá le hicieron reemplazo de rodilla", [S.PROCEDURE]),
    # Reports of a problem after a procedure.
    ("since the injection last Tuesday the knee is red and warm", [S.SYMPTOM, S.BODY_PAIN, S.PROCEDURE]),
    ("me sigue doliendo donde me sacaron la médula", [S.SYMPTOM, S.PROCEDURE]),
    ("el lugar de la inyeccion tiene un moreton grande", [S.SYMPTOM, S.PROCEDURE]),
]


@pytest.mark.parametrize(("text", "expected"), MISSED_BEFORE)
def test_it_flags_what_the_keyword_list_missed(text: str, expected: list[Signal]) -> None:
    assert medical_signals(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Word forms: one stem, many spellings of the same word.
        ("my knee hurts", [S.SYMPTOM, S.BODY_PAIN]),
        ("my knee is hurting", [S.SYMPTOM, S.BODY_PAIN]),
        ("me duele la rodilla", [S.SYMPTOM, S.BODY_PAIN]),
        ("me sigue doliendo la rodilla", [S.SYMPTOM, S.BODY_PAIN]),
        ("me dolía la rodilla", [S.SYMPTOM, S.BODY_PAIN]),
        # Letters held down on a phone, and common misspellings.
        ("my knee is sooo swolllen", [S.SYMPTOM, S.BODY_PAIN]),
        ("i have arthritus and tendonitus", [S.DIAGNOSIS]),
        ("tuve una cirujia de rodiya", [S.PROCEDURE]),
    ],
)
def test_it_matches_word_forms_and_folds_misspellings(text: str, expected: list[Signal]) -> None:
    assert medical_signals(text) == expected


# --- The rule for questions about the practice's services ---
# The guard protects the writer's health information (or that of the person they write
# for). A question about what the practice offers, for which part of the body or which
# condition, what it costs or whether insurance pays, tells nothing about anyone's
# health: the front desk answers it. The same words about the writer are medical.


@pytest.mark.parametrize(
    "text",
    [
        "do you do PRP for hair",
        "Do you treat tennis elbow?",
        "¿Tratan la artritis?",
        "Do you do knee replacements or only injections?",
        "¿Hacen reemplazo de rodilla o solo inyecciones?",
        "Do you treat sports injuries in teenagers?",
        "¿Las inyecciones son con ultrasonido?",
        "How much is a PRP injection without insurance?",
        "We do SEO and websites for pain management clinics",
        "I'm a surgical tech with experience in arthroscopy and knee replacement cases, any openings?",
    ],
)
def test_it_leaves_questions_about_the_practices_services_alone(text: str) -> None:
    assert medical_signals(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Do you treat my tennis elbow? It hurts when I grip", [S.SYMPTOM, S.DIAGNOSIS, S.BODY_PAIN]),
        ("¿Tratan la artritis de mi mamá?", [S.DIAGNOSIS]),
        ("Can you help with a labral tear in my hip?", [S.DIAGNOSIS, S.BODY_PAIN]),
    ],
)
def test_it_flags_the_same_words_when_they_are_about_the_writer(text: str, expected: list[Signal]) -> None:
    assert medical_signals(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I'm in pain to find your office, the GPS keeps sending me to the back of the mall",
        "Traffic on the 405 was killing me, I'm going to be late",
        "el estacionamiento fue un dolor de cabeza, ¿hay otro lugar?",
        "me duele decirlo pero nadie me contestó el teléfono ayer",
        "mi mamá se llama Dolores Ruiz y tiene cita mañana",
        "My back-up phone number is 818-555-0133",
        "hace mucho calor en la sala de espera",
        "The red building or the white one?",
        "warm regards, and thanks",
        "I'm insured through Blue Cross",
        "inflated prices for parking",
    ],
)
def test_it_leaves_idioms_names_and_lookalike_words_alone(text: str) -> None:
    assert medical_signals(text) == []


# --- Urgent warning signs ---
# Urgent: the message reports, as happening now to the writer or the person they write
# for, fever; redness or heat at a treated site (a procedure is mentioned); pain or
# redness spreading; numbness or weakness that is new (sudden, since yesterday, after a
# procedure); chest pain; trouble breathing. Not urgent, though still medical: the same
# words negated ("no fever"), asked about in general ("is fever a side effect?", "what
# if I get a fever"), long-standing numbness, or redness with no procedure behind it.


@pytest.mark.parametrize(
    ("text", "signs"),
    [
        ("since the injection last Tuesday the knee is red and warm", ("site_redness",)),
        ("had a fever of 101 last night and my shoulder aches", ("fever",)),
        ("Its been 3 days since my procedure and I've got chills and a temp of 100.8", ("fever",)),
        ("post injection my knee is hot and the redness is spreading down my shin", ("site_redness", "spreading_pain")),
        ("all of a sudden my left leg went numb and I can't lift my foot", ("new_numbness", "new_weakness")),
        ("I have chest pain, should I still come tomorrow?", ("chest_pain",)),
        ("having trouble breathing since this morning", ("breathing",)),
        ("tengo fiebre y me duele todo el cuerpo", ("fever",)),
        ("desde que me pusieron el PRP tengo calentura", ("fever",)),
        ("despues de la inyeccion del viernes la rodilla esta enrojecida y caliente", ("site_redness",)),
        ("se me duerme la pierna desde ayer", ("new_numbness",)),
        ("de repente perdí fuerza en el brazo izquierdo", ("new_weakness",)),
        ("TENGO DOLOR DE PECHO Y ME FALTA EL AIRE", ("chest_pain", "breathing")),
        ("desde el procedimiento el dolor se me está extendiendo a toda la pierna", ("spreading_pain",)),
    ],
)
def test_it_names_the_urgent_warning_signs(text: str, signs: tuple[str, ...]) -> None:
    assessment = assess(text)
    assert assessment.urgent_signs == signs
    assert assessment.urgent is True
    assert assessment.medical is True


@pytest.mark.parametrize(
    "text",
    [
        "Is fever a side effect of the bone marrow procedure?",
        "what if I get a fever after the injection, should I go to the ER?",
        "¿La fiebre es un efecto secundario del procedimiento?",
        "my knee is swollen but no fever or redness, is that normal?",
        "no tengo fiebre ni enrojecimiento, solo un poco de dolor en la rodilla",
        "I have had numbness in my toes for years from diabetes",
        "tengo entumecimiento en los dedos de la mano derecha",
        "mi rodilla esta muy inflamada y roja",
        "I had a fever last year with the flu, my knee hurts though",
    ],
)
def test_it_keeps_medical_but_not_urgent_messages_apart(text: str) -> None:
    assessment = assess(text)
    assert (assessment.medical, assessment.urgent, assessment.urgent_signs) == (True, False, ())


def test_an_assessment_carries_the_signals_and_cannot_be_changed() -> None:
    assessment = assess("I have chest pain and my knee hurts")
    assert assessment == Assessment(
        signals=(S.SYMPTOM, S.BODY_PAIN), medical=True, urgent=True, urgent_signs=("chest_pain",)
    )
    with pytest.raises(AttributeError):
        assessment.urgent = False  # type: ignore[misc]
    assert assess("Is there parking?") == Assessment(signals=(), medical=False, urgent=False, urgent_signs=())


# --- Speed: linear time, bounded so that a slowdown fails instead of hanging ---


def _distinct_words(count: int) -> str:
    """count different made-up words: nothing repeats, so no cache helps."""
    letters = string.ascii_lowercase
    return " ".join(letters[n % 26] + letters[n // 26 % 26] + letters[n // 676 % 26] + "ing" for n in range(count))


@pytest.mark.parametrize(
    "text",
    [
        "Is there parking near the Encino office? My knee hurts. " * 1_800,
        _distinct_words(15_000),
        "no " * 34_000,
        "ab" * 50_000,
        "since the " * 10_000,
        "a" * 100_000,
        "¿" * 50_000 + "fiebre" * 8_400,
        "dolores " * 12_500,
    ],
)
def test_a_100000_character_message_costs_about_ten_times_a_10000_character_one(text: str) -> None:
    """Linear in the length, whatever the text: no pattern backtracks its way to quadratic time.

    Both lengths are timed in the same moment (best of three), so a busy machine slows
    both alike; the absolute speed is `bench guard_*` in `make bench`, not a timed test.
    A quadratic cost would make the long one about 100 times the short one.
    """
    assert len(text) >= 100_000
    short = text[: len(text) // 10]
    assess("warm up")  # data files loaded before the clock starts

    def best(message: str) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            assessment = assess(message)
            times.append(time.perf_counter() - started)
            assert isinstance(assessment, Assessment)
        return min(times)

    long_time, short_time = best(text), best(short)
    # 10 times the length; 30 leaves room for timer noise on a short run, far below quadratic's 100.
    assert long_time < 30 * short_time + 0.02, f"{long_time:.3f} s against {short_time:.3f} s"


# --- The evaluation corpora: written before the guard was rewritten ---
# guard_corpus.jsonl is the tuning set; guard_holdout.jsonl was written at the same time
# and never used to tune: its figures say how the guard holds up on text it has not seen.


def test_the_tuning_corpus_has_the_shape_the_issue_asks_for() -> None:
    rows = load_corpus(CORPUS)
    medical = [row for row in rows if row.medical]
    assert len(rows) >= 240
    assert abs(len(medical) - len(rows) / 2) <= 5
    assert sum(row.after_procedure for row in medical) >= len(medical) / 4
    assert sum(row.urgent for row in rows) >= 30
    english = sum(row.language == "en" for row in rows)
    spanish = sum(row.language == "es" for row in rows)
    assert min(english, spanish) >= 0.45 * len(rows)
    assert all(row.medical for row in rows if row.urgent or row.after_procedure)
    assert len({row.text for row in rows}) == len(rows)


def test_the_holdout_set_is_separate_and_has_the_same_shape() -> None:
    rows = load_corpus(HOLDOUT)
    assert len(rows) >= 80
    assert sum(row.medical for row in rows) == len(rows) / 2
    assert sum(row.after_procedure for row in rows) >= sum(row.medical for row in rows) / 4
    assert not {row.text for row in rows} & {row.text for row in load_corpus(CORPUS)}


def test_it_finds_medical_messages_and_spares_the_others_on_the_tuning_corpus() -> None:
    figures = measure(load_corpus(CORPUS))
    assert figures.recall >= 0.95, figures.false_negatives
    assert figures.specificity >= 0.95, figures.false_positives


def test_it_finds_the_urgent_ones_precisely_on_the_tuning_corpus() -> None:
    figures = measure(load_corpus(CORPUS))
    assert figures.urgent_recall >= 0.95, figures.urgent_misses
    assert figures.urgent_precision >= 0.95, figures.urgent_false_alarms


# Measured once on the held-out set, after tuning on the other corpus only: recall 50/50,
# specificity 49/50 (the miss: "the parking a real pain", an idiom without its verb),
# urgent recall 16/16 and precision 16/16. The guard must not do worse on it.
HOLDOUT_RECALL = 1.0
HOLDOUT_SPECIFICITY = 0.98
HOLDOUT_URGENT_RECALL = 1.0
HOLDOUT_URGENT_PRECISION = 1.0


def test_it_holds_up_on_the_held_out_set() -> None:
    figures = measure(load_corpus(HOLDOUT))
    assert figures.recall >= HOLDOUT_RECALL, figures.false_negatives
    assert figures.specificity >= HOLDOUT_SPECIFICITY, figures.false_positives
    assert figures.urgent_recall >= HOLDOUT_URGENT_RECALL, figures.urgent_misses
    assert figures.urgent_precision >= HOLDOUT_URGENT_PRECISION, figures.urgent_false_alarms
