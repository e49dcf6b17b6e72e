"""Signed values the public booking pages hand out: the chosen slot, and the links to manage an appointment.

Both are signed with the site's secret key (django.core.signing), so a person cannot
change what they carry. Neither carries health information or a name: a slot names
the office, provider, visit type and start; a link names the appointment's public
uuid and a version (the start it was issued for), so that a link stops working once
the appointment is moved and a new one has been sent.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core import signing

from scheduling.availability import Slot
from scheduling.models import Appointment

_SLOT_SALT = "scheduling.slot"
_MANAGE_SALT = "scheduling.manage"


class BadToken(Exception):
    """A signed value that was altered, cut short or made up."""


@dataclass(frozen=True, slots=True)
class SignedSlot:
    """What a signed slot says: book `appointment_type_id` with `provider_id` at `office_id` from `starts_at`."""

    office_id: int
    provider_id: int
    appointment_type_id: int
    starts_at: datetime


def slot_sign(*, slot: Slot, appointment_type_id: int) -> str:
    # A compact "office.provider.type.epoch" keeps a page of a few hundred times light.
    value = f"{slot.office_id}.{slot.provider_id}.{appointment_type_id}.{int(slot.starts_at.timestamp())}"
    return signing.Signer(salt=_SLOT_SALT).sign(value)


def slot_unsign(value: str) -> SignedSlot:
    try:
        plain = signing.Signer(salt=_SLOT_SALT).unsign(value)
        office_id, provider_id, type_id, epoch = (int(part) for part in plain.split("."))
        starts_at = datetime.fromtimestamp(epoch, UTC)
    except (signing.BadSignature, ValueError, OverflowError, OSError):
        raise BadToken from None
    return SignedSlot(office_id=office_id, provider_id=provider_id, appointment_type_id=type_id, starts_at=starts_at)


@dataclass(frozen=True, slots=True)
class ManageToken:
    appointment_uuid: uuid.UUID
    version: int


def _version(appointment: Appointment) -> int:
    return int(appointment.starts_at.timestamp())


def manage_token(appointment: Appointment) -> str:
    """The token of the cancel / reschedule / calendar links for the appointment as it is now."""
    return signing.Signer(salt=_MANAGE_SALT).sign(f"{appointment.uuid.hex}.{_version(appointment)}")


def manage_token_read(token: str) -> ManageToken:
    try:
        plain = signing.Signer(salt=_MANAGE_SALT).unsign(token)
        hex_uuid, version = plain.split(".")
        return ManageToken(appointment_uuid=uuid.UUID(hex=hex_uuid), version=int(version))
    except (signing.BadSignature, ValueError):
        raise BadToken from None


def manage_token_is_current(token: ManageToken, appointment: Appointment) -> bool:
    """False once the appointment was moved since the link was issued."""
    return token.version == _version(appointment)
