"""Data of `alertes` (being split into one file per kind of data)."""

from .alerts import *  # noqa: F403
from .alerts import LANGUAGES, PUBLISHED, FourEyesApprovalTask  # noqa: F401
