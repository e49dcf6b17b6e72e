"""Recovery codes stored in clear before are replaced by their digests (`accounts.mfa.recovery_digest`).

A code in clear is 8 characters; a digest is 16, so a code already a digest is left as it is.
Going back cannot recover the codes: their owners ask for new ones.
"""

from typing import Any

from django.db import migrations

from accounts.mfa import recovery_digest


def digest_clear_codes(apps: Any, schema_editor: Any) -> None:
    StaticToken = apps.get_model("otp_static", "StaticToken")
    for token in StaticToken.objects.select_related("device").exclude(token__regex=r"^[0-9a-f]{16}$"):
        token.token = recovery_digest(token.device.user_id, token.token)
        token.save(update_fields=["token"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_second_factor_audit"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(digest_clear_codes, migrations.RunPython.noop)]
