"""A module written the way a third party would, to prove the plug-in contract."""
