"""One account for everyone: citizens, agents, editors and administrators."""

from __future__ import annotations

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from hub.personal_data import (
    ACCESS_PERSON_AND_ADMINISTRATORS,
    CONTACT,
    IDENTITY,
    LOCATION,
    PREFERENCES,
    UNTIL_ACCOUNT_DELETED,
    PersonalData,
)

phone_validator = RegexValidator(
    r"^\+?[0-9 ().-]{7,20}$",
    _("Enter a phone number, e.g. 450 370-4820 or +1 450 370-4820."),
)


class UserManager(BaseUserManager):
    """Users are identified by email; there is no username."""

    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        email = self.normalize_email(email).lower()
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """The account.  Personal data is kept to what the services need (Law 25)."""

    class Language(models.TextChoices):
        FRENCH = "fr", "Français"
        ENGLISH = "en", "English"

    username = None
    email = models.EmailField(_("email address"), unique=True)
    phone = models.CharField(_("phone number"), max_length=32, blank=True,
                             validators=[phone_validator])
    preferred_language = models.CharField(
        _("preferred language"), max_length=5, choices=Language.choices, default=Language.FRENCH
    )
    civic_address = models.CharField(
        _("civic address"), max_length=255, blank=True,
        help_text=_("Number, street and apartment, e.g. 61 rue Sainte-Cécile."),
    )
    postal_code = models.CharField(_("postal code"), max_length=7, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    personal_data = PersonalData(
        purpose=_("The resident's account: signing in, contacting them, pre-filling forms"),
        retention=UNTIL_ACCOUNT_DELETED, access=ACCESS_PERSON_AND_ADMINISTRATORS,
        fields={"email": CONTACT, "first_name": IDENTITY, "last_name": IDENTITY,
                "phone": CONTACT, "civic_address": LOCATION, "postal_code": LOCATION,
                "preferred_language": PREFERENCES})

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    def has_verified_email(self) -> bool:
        """Whether the account's own email (``email``) was confirmed at sign-up (allauth
        keeps the proof): modules may then use it without asking again, e.g. as the
        alerts' email channel."""
        from allauth.account.models import EmailAddress

        return bool(self.pk and self.email) and EmailAddress.objects.filter(
            user=self, email__iexact=self.email, verified=True).exists()
