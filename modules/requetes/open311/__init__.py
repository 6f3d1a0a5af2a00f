"""Open311 GeoReport v2 for `requetes`, at ``/open311/v2/`` (mounted at the site root by
``plugin.hub_root_urlpatterns``): the endpoints (``views``), their two formats
(``rendering``) and the admin screens where administrators issue API keys (``admin``).

Endpoints (each in ``.xml``, the spec's required format, and ``.json``; content types
``text/xml; charset=utf-8`` and ``application/json; charset=utf-8``):

``GET discovery``
    Specification, URL, formats, contact.
``GET services``
    The active categories (``service_code`` is the category's code; ``metadata`` is true
    when it has questions).
``GET services/{service_code}``
    The category's questions as ``attributes`` (code, datatype, required, order, values).
``POST requests``
    Form-encoded; ``api_key`` required (403 otherwise).  ``service_code``, ``lat`` and
    ``long``, or ``address_string`` alone (placed from the city's civic address register by
    ``services.place``, as on the web form and the app API),
    ``attribute[CODE]`` / ``attribute[CODE][]``, ``description`` (≤ 4,000 characters,
    stored as text), ``email``, ``first_name``, ``last_name``, ``phone`` (kept for
    follow-up, never shown), ``media_url``, ``device_id``, ``account_id``.  Goes through
    ``services.create_open311_request`` (every rule of the web form).  A retry with the
    same ``device_id`` or ``account_id`` and the same content on the same day returns
    the first request.  Answers ``service_request_id``, ``service_notice`` and
    ``account_id``.
``GET requests``
    Filters ``service_request_id`` (comma list; overrides the others), ``service_code``
    and ``status`` (comma lists), ``start_date``/``end_date`` (W3C; the last 90 days by
    default, never more than 90 days).  At most 1,000, newest first; an empty parameter
    counts as absent.  Public fields only (``requetes/public.py``): the description when
    the resident allowed it and staff did not redact it, the place at the category's
    precision (rounded to about 100 m and the street only for categories reported at a
    home), never a name, email or phone.  ``status_notes`` is the
    current step (open) or the closure reason (closed), ``agency_responsible`` the
    department, ``expected_datetime`` the end of the due date.
``GET requests/{service_request_id}``
    The same record, in a one-element list.
``GET tokens/{token}``
    Requests are created synchronously, so POST answers the id and no token; each
    Open311 request's submission key still serves as its token (``extensions=true`` on
    the POST returns it).
``GET servicerequestupdates`` / ``POST servicerequestupdates`` (mySociety's extension)
    GET: public updates (status moves and messages written by staff) in the same date
    window, oldest first.  POST: ``api_key`` of a key allowed to post updates,
    ``service_request_id``, ``status`` (OPEN, INVESTIGATING, ACTION_SCHEDULED,
    IN_PROGRESS, FIXED, CLOSED, NOT_COUNCILS_RESPONSIBILITY, NO_FURTHER_ACTION,
    DUPLICATE with ``duplicate_of``), ``description``; goes through
    ``services.post_open311_update`` with the rights of the administrator who issued the
    key.  Answers ``update_id``.

Ids and codes are strings; datetimes are W3C datetimes in UTC (``2026-11-28T20:15:00Z``,
the spec's own form).  ``extensions=true`` on the request endpoints adds
``extended_attributes``: the intake ``channel``, ``follower_count`` and the public
``timeline``.  ``jurisdiction_id`` is optional; another value than
``REQUETES_OPEN311_JURISDICTION`` (default ``salaberry-de-valleyfield.ca``) is a 404.
Errors are the spec's list of ``{code, description}`` (``<errors><error>``): 404 for
what does not exist, 403 for a missing or bad ``api_key``, 400 otherwise.  Names and
messages follow Accept-Language.
"""
