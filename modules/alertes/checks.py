"""System checks of `alertes`: production refuses the sandbox channel (the test box).

``manage.py check --deploy`` fails with ``alertes.E001`` when the sandbox is enabled
while ``DEBUG`` is off: messages to residents would be written to the test box instead
of leaving, and staff would read them there."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def sandbox_refused_in_production(app_configs=None, **kwargs):
    from .channels import sandbox

    if settings.DEBUG or not sandbox.enabled():
        return []
    return [checks.Error(
        "ALERTES_SANDBOX is on while DEBUG is off: SMS, calls and push notifications "
        "without a provider would be written to the test box instead of being sent.",
        hint="Unset ALERTES_SANDBOX (or set it to false) in production and configure the "
             "providers (ALERTES_TWILIO_*, ALERTES_VAPID_*).",
        id="alertes.E001")]
