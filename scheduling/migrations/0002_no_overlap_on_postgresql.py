"""The database's own no-double-booking guarantee, on PostgreSQL.

Three exclusion constraints over the half-open range [starts_at, blocks_until) of
active appointments (booked, checked in, completed): one provider, one room and one
patient can never hold two overlapping ranges. Back-to-back ranges do not overlap;
cancelled and no-show rows are ignored. A row a physician booked over another with a
written reason (`override_reason`) is left out of the provider constraint only.

SQLite has no exclusion constraints; there the services' IMMEDIATE transactions
serialise writers and re-check overlaps, so these operations do nothing on SQLite.
They are not in the models' Meta because Django would then try to build them on SQLite.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

ACTIVE = "status IN ('booked', 'checked_in', 'completed')"
RANGE = "tstzrange(starts_at, blocks_until, '[)') WITH &&"
CONSTRAINTS = {
    "appointment_provider_no_overlap": f"provider_id WITH =, {RANGE}) WHERE ({ACTIVE} AND override_reason = ''",
    "appointment_room_no_overlap": f"room_id WITH =, {RANGE}) WHERE ({ACTIVE} AND room_id IS NOT NULL",
    "appointment_patient_no_overlap": f"patient_id WITH =, {RANGE}) WHERE ({ACTIVE}",
}


def add_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, body in CONSTRAINTS.items():
        schema_editor.execute(
            f"ALTER TABLE scheduling_appointment ADD CONSTRAINT {name} EXCLUDE USING gist ({body})"
        )


def drop_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]

    operations = [
        # Does nothing on databases other than PostgreSQL.
        BtreeGistExtension(),
        migrations.RunPython(add_constraints, drop_constraints),
    ]
