"""Domain operations of `liens_services`: the directory (filter and search), favourites,
and the citizen's data (export, erasure)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _
from wagtail.models import Locale

from hub.i18n import current_language, current_locale
from hub.prepared import PreparedQuery, Slot
from hub.text import fold

from .models import Category, Favourite, ServiceLink

MAX_QUERY_LENGTH = 100


def active_links(locale: Locale | None = None):
    """Links shown to residents, in the given (default: current) language."""
    locale = locale or current_locale()
    return ServiceLink.objects.filter(is_active=True, locale=locale)


@dataclass
class Directory:
    links: list[ServiceLink]
    groups: list[tuple[str, str, list[ServiceLink]]] = field(default_factory=list)
    query: str = ""
    category: str = ""
    errors: list[str] = field(default_factory=list)


def directory(query: str = "", category: str = "") -> Directory:
    """The directory of the current language, filtered by category and searched by
    words (every word must appear in the title or description, accents ignored).

    A bad filter or an overlong query gives a message and an empty result."""
    result = Directory(links=[], query=(query or "").strip(), category=(category or "").strip())
    if result.category and result.category not in Category.values:
        result.errors.append(_("This category does not exist."))
    if len(result.query) > MAX_QUERY_LENGTH:
        result.errors.append(_("The search is limited to %(max)d characters.")
                             % {"max": MAX_QUERY_LENGTH})
    if result.errors:
        return result
    links = active_links()
    if result.category:
        links = links.filter(category=result.category)
    words = fold(result.query).split()
    found = [link for link in links
             if all(w in fold(f"{link.title} {link.description}") for w in words)]
    result.links = found
    for value, label in Category.choices:
        in_group = [link for link in found if link.category == value]
        if in_group:
            result.groups.append((value, label, in_group))
    return result


# Mon Espace's panel on every visit: compiled once per process (hub.prepared).
_MY_SERVICES = PreparedQuery(lambda: ServiceLink.objects.filter(
    is_active=True, locale__language_code=Slot("language", models.CharField()))
    .annotate(is_favourite=Exists(Favourite.objects.filter(
        user_id=Slot("user", models.IntegerField()),
        link__translation_key=OuterRef("translation_key")))))


def my_services(user) -> list[tuple[ServiceLink, bool]]:
    """Every active link of the current language, the user's favourites first:
    ``(link, is_favourite)`` (Mon Espace's panel).  One query: the language is joined
    rather than looked up, and each link says whether ``user`` made one of its
    translations a favourite; the directory's order otherwise."""
    links = _MY_SERVICES.fetch(language=current_language(), user=user.pk)
    ordered = sorted(links, key=lambda link: not link.is_favourite)
    return [(link, link.is_favourite) for link in ordered]


def favourite_keys(user) -> set:
    if not user.is_authenticated:
        return set()
    return set(Favourite.objects.filter(user=user)
               .values_list("link__translation_key", flat=True))


def add_favourite(user, link: ServiceLink) -> Favourite:
    """Mark a link (any language version) as a favourite of ``user``; idempotent."""
    existing = Favourite.objects.filter(
        user=user, link__translation_key=link.translation_key).first()
    if existing is not None:
        return existing
    return Favourite.objects.create(user=user, link=link)


def remove_favourite(user, link: ServiceLink) -> int:
    """Remove ``user``'s own favourite for this link (any language); never another
    user's.  Returns how many were removed."""
    deleted, _ = Favourite.objects.filter(
        user=user, link__translation_key=link.translation_key).delete()
    return deleted


def export_user_data(user) -> dict | None:
    favourites = Favourite.objects.filter(user=user).select_related("link")
    if not favourites:
        return None
    return {"favourites": [
        {"title": f.link.title, "url": f.link.url, "added_at": f.created_at.isoformat()}
        for f in favourites]}


def erase_user_data(user) -> None:
    Favourite.objects.filter(user=user).delete()


def services_for_clients(application_ids) -> list[dict]:
    """The active service links tied to these single sign-on clients, in the current
    language when translated (French otherwise), for "Services using my account"."""
    links = (ServiceLink.objects.filter(oidc_application_id__in=list(application_ids),
                                        is_active=True)
             .select_related("locale").order_by("sort_order", "pk"))
    language = current_language()
    chosen: dict[int, ServiceLink] = {}
    for link in links:
        current = chosen.get(link.oidc_application_id)
        if current is None or (link.locale.language_code == language
                               and current.locale.language_code != language):
            chosen[link.oidc_application_id] = link
    return [{"application_id": app_id, "title": link.title, "url": link.url}
            for app_id, link in chosen.items()]
