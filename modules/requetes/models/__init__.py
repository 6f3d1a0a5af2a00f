"""Models of `requetes`: categories with their questions, requests, their history and
photos, Open311 API keys, response templates, the dashboard's figures computed ahead.
State changes go through ``services``; these models only hold data."""

from .categories import Category, Question
from .history import RequestEvent, RequestPhoto, _photo_path, _thumb_path
from .requests import ReferenceCounter, ServiceRequest
from .snapshots import DashboardSnapshot
from .staff import Open311ApiKey, ResponseTemplate

__all__ = ["Category", "DashboardSnapshot", "Open311ApiKey", "Question", "ReferenceCounter",
           "RequestEvent", "RequestPhoto", "ResponseTemplate", "ServiceRequest", "_photo_path",
           "_thumb_path"]
