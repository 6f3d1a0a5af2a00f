"""The hub's shared nouns: the account, departments, districts, the civic address register,
pages and site settings."""

from .addresses import CivicAddress
from .heartbeat import WorkerHeartbeat
from .notices import NoticeLog
from .oauth import RedeemedAuthorizationCode
from .organisation import Department, District
from .pages import ContentPage, FastChildRoutingMixin, HomePage
from .privacy import PersonalDataAccess, PrivacyIncident
from .scheduler import PeriodicRun
from .site_settings import SiteSettings
from .user import User

__all__ = [
    "CivicAddress", "ContentPage", "Department", "District", "FastChildRoutingMixin",
    "HomePage", "NoticeLog", "PeriodicRun", "PersonalDataAccess", "PrivacyIncident",
    "RedeemedAuthorizationCode", "SiteSettings", "User", "WorkerHeartbeat",
]
