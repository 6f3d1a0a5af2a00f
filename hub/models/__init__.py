"""The hub's shared nouns: the account, departments, districts, pages and site settings."""

from .heartbeat import WorkerHeartbeat
from .organisation import Department, District
from .pages import ContentPage, HomePage
from .site_settings import SiteSettings
from .user import User

__all__ = [
    "ContentPage", "Department", "District", "HomePage", "SiteSettings", "User", "WorkerHeartbeat",
]
