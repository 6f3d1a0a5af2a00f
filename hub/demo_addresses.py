"""Demo civic addresses: a few hundred plausible address points on real street names of
Salaberry-de-Valleyfield, each street laid out inside one demo district's polygon (the
positions are invented; a city loads its real register with ``manage.py hub addresses
import``, see docs/addresses.md)."""

from __future__ import annotations

from hub.geo import point_in_geometry

MUNICIPALITY = "Salaberry-de-Valleyfield"

# district slug → (postal code prefix, streets)
STREETS = {
    "centre-ville": ("J6T", ["rue Victoria", "rue Nicholson", "rue Salaberry",
                             "rue Jacques-Cartier", "rue Champlain", "rue Sainte-Cécile",
                             "rue du Marché", "rue de l'Académie", "boulevard du Havre"]),
    "grande-ile": ("J6S", ["boulevard Mgr-Langlois", "boulevard Hébert", "rue Ellen",
                           "rue Maden", "boulevard Quevillon", "rue Masson"]),
    "saint-timothee": ("J6S", ["rue Saint-Laurent", "chemin Larocque", "rue des Pionniers",
                               "rue Léger"]),
    "bellerive": ("J6T", ["boulevard du Bord-de-l'Eau", "rue Alphonse-Desjardins",
                          "avenue du Centenaire", "rue Buntin", "rue Gault"]),
}
PER_STREET = 14


def _bbox(geometry: dict) -> tuple[float, float, float, float]:
    rings = ([geometry["coordinates"][0]] if geometry["type"] == "Polygon"
             else [polygon[0] for polygon in geometry["coordinates"]])
    lons = [p[0] for ring in rings for p in ring]
    lats = [p[1] for ring in rings for p in ring]
    return min(lons), min(lats), max(lons), max(lats)


def rows(districts) -> list[tuple[int, dict]]:
    """CSV-like rows (as ``hub.addresses.import_rows`` reads them) for the districts
    given (``{slug: District}``): each street a line across its district, numbers
    along it, every point checked inside the polygon."""
    from hub.addresses import district_for_point

    ordered = sorted(districts.values(), key=lambda d: d.name)
    result = []
    line = 1
    for slug, (postal, streets) in STREETS.items():
        district = districts.get(slug)
        if district is None or not district.geometry:
            continue
        lon_min, lat_min, lon_max, lat_max = _bbox(district.geometry)
        width, height = lon_max - lon_min, lat_max - lat_min
        for index, street in enumerate(streets):
            horizontal = index % 2 == 0
            offset = (index + 1) / (len(streets) + 1)
            for k in range(PER_STREET):
                along = 0.1 + 0.8 * k / (PER_STREET - 1)
                side = 0.002 if k % 2 else -0.002  # odd and even numbers face each other
                if horizontal:
                    lon, lat = lon_min + along * width, lat_min + offset * height + side / 4
                else:
                    lon, lat = lon_min + offset * width + side / 4, lat_min + along * height
                if not point_in_geometry(district.geometry, lat, lon) or \
                        district_for_point(lat, lon, ordered) != district:
                    continue  # outside, or where an overlapping district comes first
                number = 20 + 20 * (k // 2) * 2 + (1 if k % 2 else 0) * 21
                line += 1
                result.append((line, {
                    "number": str(number), "suffix": "A" if k == 5 else "",
                    "street": street,
                    "postal_code": f"{postal} {index + 1}{chr(65 + k % 26)}{k % 10}",
                    "municipality": MUNICIPALITY,
                    "latitude": f"{lat:.6f}", "longitude": f"{lon:.6f}"}))
    return result


def load() -> int:
    """Create or refresh the demo addresses (idempotent); returns how many."""
    from hub import addresses
    from hub.models import District

    result = addresses.import_rows(rows({d.slug: d for d in District.objects.all()}))
    return result.created + result.updated
