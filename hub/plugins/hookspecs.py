"""Every hook the hub calls, documented where it is declared.

A module implements any of these in its ``plugin.py`` with ``@hookimpl``; the hub calls
them through ``hub.plugins.manager.hooks()``, which leaves out disabled modules.  Hooks
that return something are called for every enabled module and the hub receives a list
with one result per module (``None`` results are dropped), in module ``order``.

Modules may declare their own event hooks in their own ``hookspecs.py`` and expose them
with the :func:`hub_hookspecs` hook; see ``docs/modules.md``.
"""

from __future__ import annotations

from typing import Any

from . import hookspec


@hookspec
def hub_module() -> dict[str, Any]:
    """Describe the module.  Called at start-up and whenever the hub lists modules
    (``/api/v1/modules/``, ``manage.py hub modules``, the admin).

    Return a dict with:

    - ``slug`` (str, required): stable identifier, also the entry-point name;
    - ``name_fr`` / ``name_en`` (str, required): display names;
    - ``description_fr`` / ``description_en`` (str): one sentence for residents;
    - ``icon`` (str): name of an icon in ``theme/static/theme/icons/`` (e.g. ``"alert"``);
    - ``order`` (int): position of the module in menus and tiles (lower first; default 100);
    - ``version`` (str): the module's version.
    """


@hookspec
def hub_hookspecs() -> Any:
    """Declare the module's own event hooks.  Called once, when the plugin manager is
    built, before any module is registered.

    Return the module (or class) holding the module's ``@hookspec`` functions, e.g.
    ``modules.requetes.hookspecs``; the manager adds them with ``add_hookspecs`` so other
    modules can implement them with ``@hookimpl(optionalhook=True)``.  Return ``None``
    when the module declares no event.
    """


@hookspec
def hub_urlpatterns() -> list:
    """Contribute public URL patterns.  Called when the root URLconf is built (at start-up
    and whenever module enablement changes).

    Return a list of Django URL patterns, usually ``[path("requetes/", include(...))]``;
    they are mounted inside the language prefixes (``/fr/…`` and ``/en/…``) ahead of
    Wagtail's page serving.  Use a URL namespace named after the module's slug.
    """


@hookspec
def hub_root_urlpatterns() -> list:
    """Contribute URL patterns outside the language prefixes.  Called when the root URLconf
    is built, like :func:`hub_urlpatterns`.

    For machine endpoints whose address is fixed by a standard or a provider, not by the
    visitor's language: Open311 (``/open311/v2/…``), CAP feeds (``/alertes/cap.atom``),
    provider webhooks.  Return a list of URL patterns mounted at the site root, ahead of
    the hub's JSON 404 for unknown ``/api/`` and ``/open311/`` paths.
    """


@hookspec
def hub_api_routes(router: Any) -> None:
    """Register DRF viewsets on the versioned API.  Called once per URLconf build with the
    hub's ``rest_framework.routers.DefaultRouter`` mounted at ``/api/v1/``.

    Call ``router.register(prefix, viewset, basename=...)``; prefixes are English
    (``"requests"``).  Return nothing.  Every route appears in ``/api/schema/``.
    """


@hookspec
def hub_home_tiles(request: Any) -> list[dict[str, Any]]:
    """Contribute tiles to the home page.  Called on every home page render with the
    current ``HttpRequest``.

    Return a list of dicts: ``title``, ``description`` (translated strings), ``url``,
    ``icon`` and optionally ``order`` (defaults to the module's order).  Return ``[]`` to
    show nothing for this request.
    """


@hookspec
def hub_home_sections(request: Any) -> list[dict[str, Any]]:
    """Contribute sections to the home page, under the tiles (the latest news, the alerts
    in force).  Called on every home page render with the current ``HttpRequest``.

    Return a list of dicts: ``slug`` (a stable id for the section's heading), ``title``
    (translated), ``body`` (safe HTML rendered by the module), optional ``url`` and
    ``link_text`` (a "see all" link) and ``order``.  Return ``[]`` to show nothing.  The
    home page is public and cached for anonymous visitors: never put personal data in a
    section.
    """


@hookspec
def hub_dashboard_panels(request: Any) -> list[dict[str, Any]]:
    """Contribute panels to "Mon Espace", the signed-in citizen's dashboard.  Called on
    every render of ``/mon-espace/`` with the current ``HttpRequest`` (the user is signed
    in).

    Return a list of dicts: ``title``, ``body`` (safe HTML rendered by the module, e.g.
    with ``render_to_string``; it must show only ``request.user``'s data), optional
    ``url`` and ``link_text``, ``order``.
    """


@hookspec
def hub_banners(request: Any) -> list[dict[str, Any]]:
    """Contribute site-wide banners (e.g. an active emergency alert).  Called when a
    page renders, with the current ``HttpRequest``; the result is kept a few seconds per
    language (``HUB_FRAGMENT_CACHE_SECONDS``) and shown to every visitor, signed in or
    not, until then or until ``hub.cache.invalidate_public_cache()`` (which a module
    calls when its banner must change at once, as ``alertes`` does on sending).

    Return a list of dicts: ``text`` (translated string), ``level`` (``"info"``,
    ``"warning"`` or ``"danger"``), optional ``url``.  Banners must never carry personal
    data nor depend on who asks: public pages are cached for anonymous visitors, and
    the result is shared by everyone.
    """


@hookspec
def hub_search_sources() -> list[Any]:
    """Declare what the module makes searchable.  Called when the hub search runs.

    Return a list of Wagtail-searchable querysets or model classes (indexed with
    ``wagtail.search.index``), public content only.
    """


@hookspec
def hub_search_documents() -> list[Any]:
    """Declare Elasticsearch documents (``elasticsearch.dsl``) the module keeps indexed.
    Called only when ``ELASTICSEARCH_URL`` is set: at start-up, to keep the indexes
    current after each save and delete (after the transaction commits), and by
    ``manage.py search_index``, which creates the indexes and bulk-indexes every row.

    Return a list of :class:`hub.search.SearchDocumentSource`: ``document`` (an
    ``elasticsearch.dsl.Document`` class whose ``Index`` carries the name and analysis),
    ``model`` (the Django model whose rows it indexes), ``queryset`` (a callable returning
    the rows to index, with what ``to_document`` needs selected) and ``to_document(row)``
    (the document for one row, its ``meta.id`` set).  Staff-only data may be indexed: the
    index is never exposed to the public, the module queries it for its staff screens.
    """


@hookspec
def hub_oauth_client_services(application_ids: list[int]) -> list[dict[str, Any]]:
    """Name the city services behind single sign-on clients.  Called when "Services
    using my account" (``/fr/compte/services-autorises/``) renders, once, with the ids of
    the OAuth2/OpenID Connect clients (``oauth2_provider.Application``) holding a token
    for the signed-in resident.

    Return a list of dicts: ``application_id`` (one of the ids), ``title`` (in the
    current language) and ``url``; leave out the clients the module knows nothing about.
    When several modules name the same client, the first (in module order) wins.
    """


@hookspec(firstresult=True)
def hub_notify(notice: Any) -> bool | None:
    """Tell one person something on their channels.  Called by :func:`hub.notify.notify`
    after the sender's transaction commits, with a :class:`hub.notify.Notice` (plain
    data: recipient, topic, texts in the recipient's language, url, urgency,
    ``dedupe_key``).

    One implementation answers (``firstresult``): `alertes` writes outbox rows on the
    channels the person chose for ``notice.topic`` (email by default), holds non-urgent
    notices until the end of quiet hours, and writes nothing for a ``dedupe_key`` it has
    already taken.  Return True when the notice was taken (or had already been).  When no
    enabled module implements this hook the hub sends one plain email itself
    (``hub.notice_email``); never both.
    """


@hookspec
def hub_notice_topics() -> list[Any]:
    """Declare the kinds of personal notices the module sends, for which each person
    chooses channels (e.g. `requetes`' "My requests").  Called when the preferences of
    notices are shown or a notice is delivered.

    Return a list of :class:`hub.notify.NoticeTopic` (slug, names fr/en, default channels).
    """


@hookspec
def hub_oauth_scopes() -> dict[str, Any]:
    """Declare the OAuth scopes the module's API offers.  Called when the OpenID Connect
    provider is configured (start-up) and when the consent screen and "Services using my
    account" describe scopes.

    Return ``{"requetes:read": _("Read your service requests"), …}``: each scope
    (``<slug>:<verb>``) with what it shares, in the resident's words (a lazy translated
    string).  The hub's own scopes (``openid profile email phone address``) are not
    repeated.
    """


@hookspec
def hub_staff_roles() -> list[Any]:
    """Declare the staff roles the module needs, as Django groups with permissions.
    Called after every ``migrate`` (``post_migrate``) and by ``manage.py hub demo``: the
    hub creates each group that does not exist and grants it the listed permissions (it
    never removes what an administrator added).

    Return a list of :class:`hub.roles.StaffRole`: ``name`` (the group's name, as staff
    see it, in French), ``description`` and ``permissions`` (``"app_label.codename"``).
    Code checks permissions (``user.has_perm``), never group names, so a renamed group
    keeps its access.  Several modules may add permissions to the same group name.
    """


@hookspec
def hub_periodic_tasks() -> list[Any]:
    """Declare the module's recurring jobs.  Called by ``manage.py hub scheduler`` when it
    starts.

    Return a list of :class:`hub.scheduler.PeriodicTask`: a ``name`` (unique, e.g.
    ``"alertes.dispatch"``), the django-tasks ``task`` to enqueue (no arguments) and its
    ``schedule`` (a cron expression, e.g. ``"* * * * *"`` for every minute).  The
    scheduler enqueues each job once per due time, however many schedulers run.
    """


@hookspec
def hub_user_data_export(user: Any) -> dict[str, Any] | None:
    """Export a user's personal data (Québec's Law 25, portability).  Called when the
    user asks for their data export, with the ``hub.User``.

    Return a JSON-serialisable dict of what the module holds about the user, keyed by
    the module's slug by the hub, or ``None`` when it holds nothing.
    """


@hookspec
def hub_user_data_erase(user: Any) -> None:
    """Erase a user's personal data (Law 25, right to erasure).  Called inside the
    account-deletion transaction, before the user row is deleted, with the ``hub.User``.

    Delete what the module may delete and anonymise what it must keep (e.g. service
    request history kept for the city's records: drop the link to the user and their
    contact details).  Raise to abort the deletion; return nothing.
    """


@hookspec
def hub_demo_data() -> None:
    """Create the module's demo content.  Called by ``manage.py hub demo`` after the hub's
    own demo data (site, home pages, groups, admin account) exists.

    Must be idempotent: running it twice leaves the same data.  Return nothing.
    """
