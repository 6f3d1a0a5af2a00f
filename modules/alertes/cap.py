"""CAP 1.2 (OASIS Common Alerting Protocol) documents for published alerts, following
the Canadian profile CAP-CP where it applies: one ``info`` per language (fr-CA, en-CA),
districts as ``area/polygon``, the city's census subdivision as a geocode, ``msgType``
Alert / Update / Cancel with ``references`` as ``sender,identifier,sent``, and each
topic's CAP-CP event code (``profile:CAP-CP:Event:0.4``, chosen per topic in the admin,
see ``cap_cp``) with the CAP category that goes with it."""

from __future__ import annotations

from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from django.conf import settings
from django.utils import timezone

from hub.models import SiteSettings

from . import cap_cp, tokens
from .models import Alert

NS = "urn:oasis:names:tc:emergency:cap:1.2"
SEVERITY = {"emergency": "Severe", "notice": "Moderate", "info": "Minor"}
URGENCY = {"emergency": "Immediate", "notice": "Expected", "info": "Future"}
CERTAINTY = {"emergency": "Observed", "notice": "Likely", "info": "Likely"}
MSG_TYPE = {"alert": "Alert", "update": "Update", "cancel": "Cancel"}


def event_codes(alert: Alert, topics=None) -> list[tuple[str, str]]:
    """``(category, CAP-CP event code)`` of the alert: its topics' codes (chosen per
    topic in the admin, ``Topic.cap_event``), or the default for an emergency or not
    (``cap_cp.default_event``)."""
    topics = list(alert.topics.all()) if topics is None else topics
    return [(cap_cp.category(code), code)
            for code in cap_cp.codes_for(topics, alert.is_emergency)]


def sender() -> str:
    host = urlsplit(settings.BASE_URL).hostname or "localhost"
    return getattr(settings, "ALERTES_CAP_SENDER", f"alertes@{host}")


def cap_time(value) -> str:
    """``2026-11-28T17:00:00-05:00``: local time, seconds, numeric offset, never ``Z``."""
    text = timezone.localtime(value).replace(microsecond=0).isoformat()
    return text[:-6] + "-00:00" if text.endswith("+00:00") else text


def identifier(alert: Alert) -> str:
    return f"urn:uuid:{alert.identifier}"


def reference(alert: Alert) -> str:
    return f"{sender()},{identifier(alert)},{cap_time(alert.sent_at or alert.created_at)}"


def _polygons(geometry: dict) -> list[str]:
    if not geometry:
        return []
    if geometry.get("type") == "Polygon":
        rings = [geometry["coordinates"][0]]
    elif geometry.get("type") == "MultiPolygon":
        rings = [polygon[0] for polygon in geometry["coordinates"]]
    else:
        return []
    out = []
    for ring in rings:
        points = [f"{lat:.6f},{lon:.6f}" for lon, lat, *_rest in ring]
        if points and points[0] != points[-1]:
            points.append(points[0])
        if len(points) >= 4:
            out.append(" ".join(points))
    return out


def _sub(parent, tag: str, text: str | None = None):
    element = ET.SubElement(parent, f"{{{NS}}}{tag}")
    if text is not None:
        element.text = text
    return element


def document(alert: Alert) -> bytes:
    ET.register_namespace("", NS)
    root = ET.Element(f"{{{NS}}}alert")
    _sub(root, "identifier", identifier(alert))
    _sub(root, "sender", sender())
    _sub(root, "sent", cap_time(alert.sent_at or alert.created_at))
    _sub(root, "status", "Actual")
    _sub(root, "msgType", MSG_TYPE[alert.kind])
    _sub(root, "scope", "Public")
    _sub(root, "code", "profile:CAP-CP:0.4")
    if alert.references_id:
        _sub(root, "references", reference(alert.references))
    topics = list(alert.topics.all())
    codes = event_codes(alert, topics)
    districts = list(alert.districts.all())
    city = SiteSettings.current().city_name
    for language, cap_language in (("fr", "fr-CA"), ("en", "en-CA")):
        info = _sub(root, "info")
        _sub(info, "language", cap_language)
        for category in dict.fromkeys(c for c, _e in codes):
            _sub(info, "category", category)
        _sub(info, "event", topics[0].name(language) if topics else alert.title(language))
        _sub(info, "urgency", URGENCY[alert.severity])
        _sub(info, "severity", SEVERITY[alert.severity])
        _sub(info, "certainty", CERTAINTY[alert.severity])
        for _c, event_code in codes:
            code = _sub(info, "eventCode")
            _sub(code, "valueName", cap_cp.VALUE_NAME)
            _sub(code, "value", event_code)
        if alert.expires_at:
            _sub(info, "expires", cap_time(alert.expires_at))
        _sub(info, "senderName", city)
        _sub(info, "headline", alert.title(language)[:160])
        _sub(info, "description", alert.body(language))
        _sub(info, "web", tokens.absolute("alertes:detail", language, pk=alert.pk))
        areas = districts or [None]
        for district in areas:
            area = _sub(info, "area")
            _sub(area, "areaDesc", district.name if district else city)
            if district is not None:
                for polygon in _polygons(district.geometry):
                    _sub(area, "polygon", polygon)
            geocode = _sub(area, "geocode")
            _sub(geocode, "valueName", "profile:CAP-CP:Location:0.3")
            _sub(geocode, "value", getattr(settings, "ALERTES_CAP_GEOCODE", "2470052"))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
