"""Data of `alertes`: topics, subscribers and their addresses, consents
(``subscribers``), alerts (``alerts``), the personal notices taken through ``hub_notify``,
the delivery outbox shared by both (``outbox``) and the sandbox channel's messages
(``sandbox``).  Zones are the hub's ``District`` (shared with other modules).
``from .models import X`` works for every model."""

from ..approval import FourEyesApprovalTask  # the four-eyes approval task, a model here
from .alerts import IN_FORCE_STATUSES, PUBLISHED, Alert
from .outbox import Delivery, Notice, NoticePreference
from .sandbox import SandboxMessage
from .subscribers import (
    LANGUAGES,
    Address,
    Channel,
    ConsentRecord,
    Subscriber,
    Topic,
    TopicSubscription,
)

__all__ = ["IN_FORCE_STATUSES", "LANGUAGES", "PUBLISHED", "Address", "Alert", "Channel",
           "ConsentRecord", "Delivery", "FourEyesApprovalTask", "Notice", "NoticePreference",
           "SandboxMessage", "Subscriber", "Topic", "TopicSubscription"]
