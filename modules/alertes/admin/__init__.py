"""The Wagtail admin of `alertes`, one screen family per file: the alert and topic
snippets (``snippets``), the sending screens (``sending``: list, report, CSV, actions),
the subscriber screens (``subscribers``: list, registration, CSV import) and the test
box of the sandbox channel (``sandbox``), gathered under one URL namespace by
``viewsets.AlertesAdminViewSet``.  ``wagtail_hooks.py`` only
registers them.

Kept free of imports: Django's admin autodiscovery imports every app's ``admin``
module at start-up, before the URLs and hooks exist.
"""
