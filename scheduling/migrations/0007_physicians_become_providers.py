"""One clinician: each public physician profile moves onto its provider (the same name), or becomes one."""

from django.db import migrations


def physicians_to_providers(apps, schema_editor):
    Physician = apps.get_model("website", "Physician")
    Provider = apps.get_model("scheduling", "Provider")
    for physician in Physician.objects.all():
        name = physician.name.removesuffix(" (example)")
        provider = Provider.objects.filter(name__in=[physician.name, name]).order_by("pk").first()
        if provider is None:
            # A physician shown on the website who keeps no hours yet: a provider without a calendar.
            provider = Provider(name=name, kind="physician")
        provider.is_public = True
        provider.credentials = physician.credentials
        provider.bio_en = physician.bio_en
        provider.bio_es = physician.bio_es
        provider.order = physician.order
        provider.save()


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0006_appointment_created_at_from_the_service"),
        ("website", "0004_inquiry_urgent_first"),
    ]

    operations = [migrations.RunPython(physicians_to_providers, migrations.RunPython.noop)]
