"""Domain operations of `alertes`, one job per file; views, the admin, the API, the tasks
and the other modules' hooks all call down to these functions.

* ``subscriptions`` — a citizen's subscriber, consent records, preferences, leaving;
* ``addresses`` — adding, verifying (link, texted code) and removing addresses
  (phone numbers are normalised by the pure ``alertes.phones``);
* ``residents`` — residents registered or imported (CSV) by staff;
* ``webhooks`` — Twilio's inbound SMS keywords and delivery status callbacks;
* ``sending`` — text checks, emergency send, the send on publish, corrections, tests;
* ``outbox`` — the audience, the outbox build and its hand-over to the queue (the
  delivery guarantee is written down there);
* ``delivery`` — the worker (claim, send, record, retry) and the every-minute sweep;
* ``reports`` — an alert's report and CSV, subscriber counts and search;
* ``privacy`` — a citizen's export and erasure;
* ``public`` — the alerts in force and a citizen's received messages, as shown.

This package re-exports the names its callers use (``services.send(…)``), so they need
not know which file holds what; code inside ``alertes`` that would otherwise import in
a circle imports the file itself (``services.outbox``).
"""

from ..phones import normalize_phone
from .addresses import (
    CodeSending,
    account_email_offer,
    add_account_email,
    add_address,
    remove_address,
    send_email_verification,
    send_sms_code,
    verify_email,
    verify_sms_code,
)
from .delivery import (
    MAX_ATTEMPTS,
    backoff,
    claim,
    deliver,
    dispatch_due,
    resolve_review,
    schedule_retry,
)
from .outbox import (
    alert_channels,
    audience,
    audience_size,
    build_in_chunks,
    build_outbox,
    enqueue_deliveries,
    has_audience,
    quiet_until,
    refresh_alert_status,
)
from .privacy import erase_user, export_user
from .public import active_alerts, emergencies_in_force, messages_received, received
from .reports import csv_safe, report, report_rows, search_subscribers, subscriber_counts
from .residents import (
    IMPORT_MAX_BYTES,
    can_register,
    import_residents,
    parse_residents_csv,
    register_resident,
)
from .sending import (
    AlertError,
    alert_published,
    can_send,
    check_texts,
    create_correction,
    send,
    send_test,
)
from .status import (
    describe_error,
    humanize_report,
    sending_plan,
    status_label,
    summaries,
    summary,
    summary_from_counts,
)
from .subscriptions import (
    emergency_topics,
    leave,
    place_resident,
    record_consent,
    subscriber_for,
    unsubscribe_with_token,
    update_preferences,
)
from .webhooks import handle_inbound_sms, handle_status_callback, help_text

__all__ = [
    "IMPORT_MAX_BYTES",
    "MAX_ATTEMPTS",
    "AlertError",
    "CodeSending",
    "account_email_offer",
    "active_alerts",
    "add_account_email",
    "add_address",
    "alert_channels",
    "alert_published",
    "audience",
    "audience_size",
    "backoff",
    "build_in_chunks",
    "build_outbox",
    "can_register",
    "can_send",
    "check_texts",
    "claim",
    "create_correction",
    "csv_safe",
    "deliver",
    "describe_error",
    "dispatch_due",
    "emergencies_in_force",
    "emergency_topics",
    "enqueue_deliveries",
    "erase_user",
    "export_user",
    "handle_inbound_sms",
    "handle_status_callback",
    "has_audience",
    "help_text",
    "humanize_report",
    "import_residents",
    "leave",
    "messages_received",
    "normalize_phone",
    "parse_residents_csv",
    "place_resident",
    "quiet_until",
    "received",
    "record_consent",
    "refresh_alert_status",
    "register_resident",
    "remove_address",
    "report",
    "report_rows",
    "resolve_review",
    "schedule_retry",
    "search_subscribers",
    "send",
    "send_email_verification",
    "send_sms_code",
    "send_test",
    "sending_plan",
    "status_label",
    "subscriber_counts",
    "subscriber_for",
    "summaries",
    "summary",
    "summary_from_counts",
    "unsubscribe_with_token",
    "update_preferences",
    "verify_email",
    "verify_sms_code",
]
