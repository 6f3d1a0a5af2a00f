"""Québec's Law 25 registers the city keeps: confidentiality incidents (the register of
the *Règlement sur les incidents de confidentialité*, art. 2) and the staff access log
(who read which resident's personal data, when and why)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel

from hub.personal_data import CONTACT, IDENTITY, TECHNICAL, PersonalData


class PrivacyIncident(models.Model):
    """One confidentiality incident, with the eight elements the regulation's register
    requires (art. 2), and what the notice to the persons concerned says (art. 5)."""

    title = models.CharField(_("title"), max_length=200,
                             help_text=_("A short name for the register's list."))
    # 1. The personal information concerned.
    information_description = models.TextField(
        _("personal information concerned"),
        help_text=_("A description of the personal information concerned by the incident, "
                    "or, if it is not known, the reasons why it cannot be described."))
    # 2. The circumstances.
    circumstances = models.TextField(
        _("circumstances"), help_text=_("A brief description of the circumstances."))
    # 3. The date or period of the incident (an approximation if it is not known).
    occurred_from = models.DateField(_("incident date (or start of the period)"))
    occurred_to = models.DateField(_("end of the period"), null=True, blank=True)
    occurred_approximate = models.BooleanField(_("the date is approximate"), default=False)
    # 4. When the city became aware of it.
    became_aware_on = models.DateField(_("date the city became aware of it"))
    # 5. How many persons (or an approximation).
    persons_concerned = models.PositiveIntegerField(_("number of persons concerned"))
    persons_approximate = models.BooleanField(_("the number is approximate"), default=False)
    # 6. The assessment of the risk of serious injury.
    risk_assessment = models.TextField(
        _("assessment of the risk of serious injury"),
        help_text=_("The sensitivity of the information, its possible misuse, the "
                    "anticipated consequences and their likelihood."))
    serious_injury_risk = models.BooleanField(_("risk of serious injury"), default=False)
    # 7. Whether the Commission and the persons were notified, and when.
    commission_notified_on = models.DateField(
        _("Commission d'accès à l'information notified on"), null=True, blank=True)
    persons_notified_on = models.DateField(_("persons concerned notified on"),
                                           null=True, blank=True)
    public_notice_on = models.DateField(
        _("public notice given on"), null=True, blank=True,
        help_text=_("When persons could not be reached individually (art. 5 of the "
                    "regulation)."))
    # 8. The measures taken after becoming aware of it, to reduce the risk of injury.
    measures_taken = models.TextField(
        _("measures taken or planned"),
        help_text=_("What the city did after becoming aware of the incident, and intends "
                    "to do, to reduce the risk of injury and prevent another incident."))
    # The notice to persons (art. 5) also tells them:
    measures_for_persons = models.TextField(
        _("what the persons concerned can do"), blank=True,
        help_text=_("Measures the persons concerned can take to reduce the risk of "
                    "injury (e.g. change a password, watch for suspicious messages)."))
    contact = models.TextField(
        _("contact for questions"), blank=True,
        help_text=_("The person or department persons can reach about the incident; "
                    "the person in charge of the protection of personal information "
                    "when left empty."))
    created_at = models.DateTimeField(_("recorded"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    panels = [
        FieldPanel("title"),
        FieldPanel("information_description"),
        FieldPanel("circumstances"),
        MultiFieldPanel([FieldRowPanel([FieldPanel("occurred_from"),
                                        FieldPanel("occurred_to")]),
                         FieldPanel("occurred_approximate"),
                         FieldPanel("became_aware_on")], heading=_("Dates")),
        FieldRowPanel([FieldPanel("persons_concerned"), FieldPanel("persons_approximate")]),
        FieldPanel("risk_assessment"),
        FieldPanel("serious_injury_risk"),
        MultiFieldPanel([FieldPanel("commission_notified_on"),
                         FieldPanel("persons_notified_on"),
                         FieldPanel("public_notice_on")], heading=_("Notifications")),
        FieldPanel("measures_taken"),
        FieldPanel("measures_for_persons"),
        FieldPanel("contact"),
    ]

    personal_data = PersonalData(
        purpose=_("Register of confidentiality incidents (Law 25, s. 3.8)"),
        retention=_("5 years after the city became aware of the incident"),
        access=_("Administrators (person in charge of personal information)"),
        exempt={"information_description": _("describes the kind of data, names no one"),
                "circumstances": _("describes events, names no one"),
                "contact": _("the city's contact, not a resident's")},
    )

    class Meta:
        ordering = ["-became_aware_on", "-pk"]
        verbose_name = _("confidentiality incident")
        verbose_name_plural = _("confidentiality incidents")

    def __str__(self) -> str:
        return self.title

    @property
    def commission_notified(self) -> bool:
        return self.commission_notified_on is not None

    @property
    def persons_notified(self) -> bool:
        return self.persons_notified_on is not None or self.public_notice_on is not None


class PersonalDataAccess(models.Model):
    """A staff member read a resident's personal data (a request's detail, an export, a
    resident's account in the admin).  Append-only; administrators alone see it."""

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                              null=True, related_name="+", verbose_name=_("staff member"))
    staff_email = models.EmailField(_("staff member's email"), blank=True)
    subject = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                null=True, blank=True, related_name="+",
                                verbose_name=_("whose data"))
    subject_label = models.CharField(
        _("record"), max_length=200, blank=True,
        help_text=_("What was read, e.g. a request's reference (callers have no account)."))
    what = models.CharField(_("what was read"), max_length=100)
    reason = models.CharField(_("why (route)"), max_length=300, blank=True)

    personal_data = PersonalData(
        purpose=_("Log of staff reads of residents' personal data (accountability)"),
        retention=_("2 years"),
        access=_("Administrators"),
        fields={"staff": IDENTITY, "staff_email": CONTACT, "subject": IDENTITY,
                "subject_label": IDENTITY, "reason": TECHNICAL},
    )

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.staff_email} {self.what}"
