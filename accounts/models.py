"""Staff users, their roles, and the audit log."""

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    FRONT_DESK = "front_desk", _("Front desk")
    PHYSICIAN = "physician", _("Physician")
    PHYSICIAN_ASSISTANT = "pa", _("Physician assistant")
    TECHNICIAN = "technician", _("Processing technician")
    MANAGER = "manager", _("Practice manager")
    RESEARCHER = "researcher", _("Researcher")


class User(AbstractUser):
    """A member of staff. Patients never sign in with this model."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.FRONT_DESK)

    class Meta:
        ordering = ["last_name", "first_name", "username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_clinician(self) -> bool:
        return self.role in {Role.PHYSICIAN, Role.PHYSICIAN_ASSISTANT}


class AuditEvent(models.Model):
    """One read or change of protected information: who, what, when, from where.

    Rows are only ever added; `object_ref` names the record by its public id so
    the log itself carries no health information.
    """

    class Action(models.TextChoices):
        VIEW = "view", "view"
        CREATE = "create", "create"
        CHANGE = "change", "change"
        DELETE = "delete", "delete"
        EXPORT = "export", "export"
        SIGN_IN = "sign_in", "sign in"
        SIGN_IN_FAILED = "sign_in_failed", "sign-in failed"

    id = models.BigAutoField(primary_key=True)
    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=60)
    object_ref = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["object_type", "object_ref"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_id} {self.action} {self.object_type}:{self.object_ref}"
