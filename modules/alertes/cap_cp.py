"""Event codes of the Canadian CAP profile (CAP-CP) that a city's alerts use.

A CAP-CP alert's ``info`` carries ``eventCode`` with ``valueName``
``profile:CAP-CP:Event:0.4`` and a code of the CAP-CP event list (codes are at most 12
characters, hence ``drinkingWate``), and the CAP ``category`` of that event.  This is
the part of the list a municipality needs (civil emergencies, weather, roads and
transport, utilities and municipal services, health, environment, fire, hazardous
materials, security, rescue), each with the CAP 1.2 category it belongs to (OASIS CAP
1.2 §3.2.2: Geo, Met, Safety, Security, Rescue, Fire, Health, Env, Transport, Infra,
CBRNE, Other).

Each topic chooses its code in the admin (``Topic.cap_event``).  An alert whose topics
have none gets ``ALERTES_CAP_EMERGENCY_EVENT`` (default ``civilEmerg``) when it is an
emergency, ``ALERTES_CAP_DEFAULT_EVENT`` (default ``other``, "special message")
otherwise; an unknown code in those settings falls back to ``other``.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

VALUE_NAME = "profile:CAP-CP:Event:0.4"

# code: (CAP category, label)
EVENTS: dict[str, tuple[str, object]] = {
    # General emergency and public safety
    "civilEmerg": ("Safety", _("Civil emergency")),
    "emergSupport": ("Safety", _("Emergency support services")),
    "emergFacil": ("Safety", _("Emergency support facilities")),
    "911Service": ("Safety", _("911 service")),
    # Weather
    "snowfall": ("Met", _("Snowfall")),
    "winterStorm": ("Met", _("Winter storm")),
    "blizzard": ("Met", _("Blizzard")),
    "freezeRain": ("Met", _("Freezing rain")),
    "coldWave": ("Met", _("Cold wave")),
    "heatWave": ("Met", _("Heat wave")),
    "rainfall": ("Met", _("Rainfall")),
    "strongWind": ("Met", _("Strong wind")),
    "thunderstorm": ("Met", _("Thunderstorm")),
    "tornado": ("Met", _("Tornado")),
    "flood": ("Met", _("Flood")),
    "weather": ("Met", _("Weather")),
    # Geophysical
    "earthquake": ("Geo", _("Earthquake")),
    "landslide": ("Geo", _("Landslide")),
    # Roads and transport
    "roadClose": ("Transport", _("Roadway closure")),
    "roadDelay": ("Transport", _("Roadway delay")),
    "roadUsage": ("Transport", _("Roadway usage condition")),
    "rdCondition": ("Transport", _("Hazardous road conditions")),
    "bridgeClose": ("Transport", _("Bridge closure")),
    "traffic": ("Transport", _("Traffic report")),
    "transit": ("Transport", _("Public transit")),
    "schoolBus": ("Transport", _("School bus")),
    # Utilities and municipal services
    "water": ("Infra", _("Water supply")),
    "sewer": ("Infra", _("Sewer system")),
    "waste": ("Infra", _("Waste management")),
    "electric": ("Infra", _("Electricity supply")),
    "naturalGas": ("Infra", _("Natural gas supply")),
    "telephone": ("Infra", _("Telephone service")),
    "publicServic": ("Infra", _("Public services")),
    "facility": ("Infra", _("Service or facility")),
    # Health and environment
    "drinkingWate": ("Health", _("Drinking water")),
    "health": ("Health", _("Health")),
    "infectious": ("Health", _("Infectious disease")),
    "airQuality": ("Env", _("Air quality")),
    # Fire, hazardous materials, security, rescue
    "urbanFire": ("Fire", _("Major fire (urban)")),
    "industryFire": ("Fire", _("Major fire (industrial)")),
    "wildFire": ("Fire", _("Wildfire")),
    "hazmat": ("CBRNE", _("Hazardous materials")),
    "chemical": ("CBRNE", _("Chemical hazard")),
    "explosive": ("CBRNE", _("Explosive hazard")),
    "dangerPerson": ("Security", _("Dangerous person")),
    "crime": ("Security", _("Police operation")),
    "missingPer": ("Rescue", _("Missing person")),
    "amber": ("Rescue", _("Missing child (AMBER)")),
    # Other
    "civilEvent": ("Other", _("Public event")),
    "other": ("Other", _("Special message")),
}
CATEGORIES = ("Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env",
              "Transport", "Infra", "CBRNE", "Other")
FALLBACK = "other"


def event_choices() -> list[tuple[str, str]]:
    """The codes for ``Topic.cap_event``, labelled "label (code)"."""
    return [(code, f"{label} ({code})") for code, (_c, label) in EVENTS.items()]


def category(code: str) -> str:
    return EVENTS.get(code, EVENTS[FALLBACK])[0]


def known(code) -> str:
    """``code`` if it is on the list, else ``other``."""
    return code if isinstance(code, str) and code in EVENTS else FALLBACK


def default_event(emergency: bool) -> str:
    if emergency:
        return known(getattr(settings, "ALERTES_CAP_EMERGENCY_EVENT", "civilEmerg"))
    return known(getattr(settings, "ALERTES_CAP_DEFAULT_EVENT", FALLBACK))


def codes_for(topics, emergency: bool) -> list[str]:
    """The event codes of an alert on ``topics``: each topic's code, in order, once;
    the default when none has one."""
    codes: list[str] = []
    for topic in topics:
        code = getattr(topic, "cap_event", "")
        if code and known(code) not in codes:
            codes.append(known(code))
    return codes or [default_event(emergency)]
