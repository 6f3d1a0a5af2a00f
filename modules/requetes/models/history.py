"""A request's history (one event per change) and its photos."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hub.personal_data import (
    ACCESS_REQUEST_STAFF,
    CONTENT,
    IDENTITY,
    IMAGE,
    PersonalData,
)

from .requests import ServiceRequest


class RequestEvent(models.Model):
    """One entry of a request's history: who, when, from which status to which, what the
    citizen is told and what staff keep for themselves."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        STATUS = "status", _("Status changed")
        ASSIGNED = "assigned", _("Assigned")
        COMMENT = "comment", _("Comment")
        NOTE = "note", _("Internal note")
        REOPENED = "reopened", _("Reopened")
        FOLLOWED = "followed", _("Followed")
        MERGED = "merged", _("Duplicate merged")

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE,
                                related_name="events")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                              null=True, blank=True, related_name="+")
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16, blank=True)
    public_message = models.TextField(_("public message"), blank=True)
    internal_note = models.TextField(_("internal note"), blank=True)
    by_staff = models.BooleanField(default=False)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    personal_data = PersonalData(
        purpose=_("A request's history: who did what and what the resident wrote"),
        retention=_("The category's retention period after closure, then anonymised"),
        access=ACCESS_REQUEST_STAFF,
        fields={"actor": IDENTITY, "public_message": CONTENT, "internal_note": CONTENT})

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("request event")
        verbose_name_plural = _("request events")

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_public(self) -> bool:
        return self.kind in (self.Kind.CREATED, self.Kind.STATUS, self.Kind.COMMENT,
                             self.Kind.REOPENED, self.Kind.ASSIGNED, self.Kind.MERGED)

    def from_label(self) -> str:
        return ServiceRequest.Status(self.from_status).label if self.from_status else ""

    def to_label(self) -> str:
        return ServiceRequest.Status(self.to_status).label if self.to_status else ""


def _photo_path(instance, filename: str) -> str:
    return f"requetes/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.jpg"


def _thumb_path(instance, filename: str) -> str:
    return f"requetes/{timezone.now():%Y/%m}/{uuid.uuid4().hex}-thumb.jpg"


class RequestPhoto(models.Model):
    """A photo re-encoded by the server (pixels only, no metadata), with its thumbnail.
    Served through an authorising view, never by a guessable public URL."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE,
                                related_name="photos")
    image = models.FileField(_("photo"), upload_to=_photo_path)
    thumbnail = models.FileField(_("thumbnail"), upload_to=_thumb_path)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    personal_data = PersonalData(
        purpose=_("Photos a resident sent with a request"),
        retention=_("The category's retention period after closure, then deleted"),
        access=ACCESS_REQUEST_STAFF,
        fields={"image": IMAGE, "thumbnail": IMAGE, "uploaded_by": IDENTITY})

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self) -> str:
        return f"{self.request_id} photo {self.pk}"
