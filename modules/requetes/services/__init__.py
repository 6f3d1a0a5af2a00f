"""Domain operations on service requests (a package since the split; see lifecycle)."""

from .lifecycle import *  # noqa: F403
