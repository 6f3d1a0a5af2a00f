"""What every map of `requetes` shares: the tile server (a setting, so that a city can
use its own or a commercial one), its attribution, where to centre, and the one CSP
addition a map needs (the tile host in img-src, on that response only).

Settings: ``REQUETES_MAP_TILES_URL`` (a Leaflet URL template; OpenStreetMap's by
default) and ``REQUETES_MAP_ATTRIBUTION`` (HTML, as tile providers require).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

from . import services

DEFAULT_TILES_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_ATTRIBUTION = ('&copy; <a href="https://www.openstreetmap.org/copyright">'
                       "OpenStreetMap</a>")


def tiles_url() -> str:
    return getattr(settings, "REQUETES_MAP_TILES_URL", "") or DEFAULT_TILES_URL


def attribution() -> str:
    return getattr(settings, "REQUETES_MAP_ATTRIBUTION", "") or DEFAULT_ATTRIBUTION


def tile_source() -> str | None:
    """The CSP source of the tile images: ``https://tile.example.org``, or
    ``https://*.tile.example.org`` for a ``{s}.`` subdomain template; None when the
    tiles are served by this site (a relative URL)."""
    parts = urlsplit(tiles_url())
    if not parts.scheme or not parts.netloc:
        return None
    host = parts.netloc
    if host.startswith("{s}."):
        host = "*." + host[4:]
    host = host.replace("{s}", "*")
    return f"{parts.scheme}://{host}"


def allow_tiles(response):
    """Let this response's page load the tiles (img-src), and nothing more."""
    source = tile_source()
    if source:
        update = dict(getattr(response, "_csp_update", None) or {})
        update["img-src"] = [*update.get("img-src", []), source]
        response._csp_update = update
    return response


def territory_bounds() -> list[list[float]]:
    """``[[south, west], [north, east]]`` of the city's territory, for the initial view."""
    geometry = services.territory()
    rings = geometry["coordinates"]
    if geometry.get("type") == "MultiPolygon":
        rings = [ring for polygon in rings for ring in polygon]
    points = [point for ring in rings for point in ring]
    lons = [point[0] for point in points]
    lats = [point[1] for point in points]
    return [[min(lats), min(lons)], [max(lats), max(lons)]]


def config(**extra) -> dict:
    """The map settings templates hand to ``requetes/map.js`` through ``json_script``."""
    return {"tiles": tiles_url(), "attribution": attribution(),
            "bounds": territory_bounds(), **extra}
