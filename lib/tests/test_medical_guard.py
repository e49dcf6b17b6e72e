"""The contact form's medical-content detector: what it flags, what it leaves to the front desk."""

import pytest

from lib.medical_guard import Signal, looks_medical, medical_signals

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
    assert isinstance(medical_signals(text), list)


def test_it_still_flags_medical_content_at_the_end_of_a_long_message() -> None:
    text = "Is there parking near the Encino office? " * 250 + "Also my shoulder is swollen."
    assert len(text) >= 10_000
    assert medical_signals(text) == [S.SYMPTOM, S.BODY_PAIN]
