"""Small GeoJSON helpers: validation and point-in-polygon without a GIS database.

SQLite is the embedded default, so district look-ups are done in Python; a city has a
few dozen districts, which ray casting handles in microseconds.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _validate_ring(ring: Any) -> None:
    if not isinstance(ring, list) or len(ring) < 4:
        raise ValueError(_("Each ring needs at least four positions."))
    for position in ring:
        if (
            not isinstance(position, list)
            or len(position) < 2
            or not all(_is_number(value) for value in position[:2])
        ):
            raise ValueError(_("Each position must be [longitude, latitude]."))
        lon, lat = position[0], position[1]
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError(_("Coordinates must be longitude between -180 and 180 and "
                               "latitude between -90 and 90."))
    if ring[0][:2] != ring[-1][:2]:
        raise ValueError(_("Each ring must end where it starts."))


def validate_geometry(geometry: Any) -> None:
    """Raise ``ValueError`` with a readable message unless ``geometry`` is a valid
    GeoJSON Polygon or MultiPolygon."""
    if not isinstance(geometry, dict):
        raise ValueError(_("The boundary must be a GeoJSON object."))
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates")
    if kind == "Polygon":
        polygons = [coordinates]
    elif kind == "MultiPolygon":
        polygons = coordinates if isinstance(coordinates, list) else None
    else:
        raise ValueError(_("The boundary must be a GeoJSON Polygon or MultiPolygon."))
    if not polygons:
        raise ValueError(_("The boundary has no coordinates."))
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise ValueError(_("Each polygon needs at least one ring."))
        for ring in polygon:
            _validate_ring(ring)


def _in_ring(ring: list, x: float, y: float) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def point_in_geometry(geometry: dict, latitude: float, longitude: float) -> bool:
    """True when (latitude, longitude) lies inside the Polygon/MultiPolygon (holes excluded)."""
    kind = geometry.get("type")
    polygons = [geometry["coordinates"]] if kind == "Polygon" else geometry.get("coordinates", [])
    for polygon in polygons:
        outer, *holes = polygon
        if _in_ring(outer, longitude, latitude) and not any(
            _in_ring(hole, longitude, latitude) for hole in holes
        ):
            return True
    return False


_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")


def decimal_point(text: Any) -> Any:
    """A typed coordinate with a French decimal comma (``45,2556``) spelt with a point
    (``45.2556``); anything else unchanged (a thousands separator or two commas stay, so
    the number check refuses them)."""
    if isinstance(text, str) and _DECIMAL_COMMA.fullmatch(text.strip()):
        return text.strip().replace(",", ".")
    return text
