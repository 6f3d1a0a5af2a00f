"""Espace citoyen: the hub (settings, accounts, plugin manager, pages, API)."""
