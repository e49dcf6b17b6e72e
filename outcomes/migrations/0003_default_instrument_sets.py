"""The instrument sets the practice starts with; staff change them in the admin afterwards.

Every episode answers NRS pain and SANE; PGIC (change since treatment) only after
treatment; and the region's instrument where a free one exists: KOOS for the knee,
HOOS for the hip, ASES for the shoulder, FAOS for the ankle and foot, ODI for the lower
back, VISA-P for patellar tendinopathy, LEFS for the hamstring. The hand, wrist, elbow
and neck have no free-to-use instrument shipped (QuickDASH and the NDI need a licence),
so those episodes answer NRS, SANE and PGIC only.

The same rows are `outcomes.services.DEFAULT_SETS`, used for an indication with no row at
all (this copy is frozen, as a migration's data must be).
"""

from django.db import migrations

EVERYONE = (("NRS", False), ("SANE", False), ("PGIC", True))
# (indication, site or "" for any site, region instrument)
REGION = (
    ("osteoarthritis", "knee", "KOOS"),
    ("osteoarthritis", "hip", "HOOS"),
    ("osteoarthritis", "shoulder", "ASES"),
    ("osteoarthritis", "ankle_foot", "FAOS"),
    ("tendon_injury", "knee", "KOOS"),
    ("tendon_injury", "shoulder", "ASES"),
    ("tendon_injury", "ankle_foot", "FAOS"),
    ("tendon_injury", "hip", "HOOS"),
    ("tendon_injury", "hamstring", "LEFS"),
    ("rotator_cuff", "", "ASES"),
    ("back_pain", "", "ODI"),
    ("knee_ligament", "", "KOOS"),
    ("patellar_tendonitis", "", "VISA-P"),
    ("hamstring", "", "LEFS"),
    ("hand_knee_foot_pain", "knee", "KOOS"),
    ("hand_knee_foot_pain", "ankle_foot", "FAOS"),
    ("cartilage", "knee", "KOOS"),
    ("cartilage", "hip", "HOOS"),
    ("cartilage", "ankle_foot", "FAOS"),
)
INDICATIONS = (
    "osteoarthritis",
    "tendon_injury",
    "rotator_cuff",
    "back_pain",
    "knee_ligament",
    "patellar_tendonitis",
    "hamstring",
    "hand_knee_foot_pain",
    "cartilage",
)


def add(apps, schema_editor):
    InstrumentSet = apps.get_model("outcomes", "InstrumentSet")
    rows = [
        InstrumentSet(indication=indication, site=site, instrument=code, order=0) for indication, site, code in REGION
    ]
    for indication in INDICATIONS:
        for order, (code, after_only) in enumerate(EVERYONE, start=1):
            rows.append(
                InstrumentSet(indication=indication, site="", instrument=code, after_treatment_only=after_only, order=order)
            )
    InstrumentSet.objects.bulk_create(rows, ignore_conflicts=True)


def remove(apps, schema_editor):
    apps.get_model("outcomes", "InstrumentSet").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0002_instrument_sets_by_site")]

    operations = [migrations.RunPython(add, remove)]
