"""Module `alertes`: alerts and communications.

Delivery that loses nothing: the outbox, the claims, the sweep and the guarantee per
channel (email, SMS, voice, push) are written down in ``services/outbox.py``; the
fan-out figures (outbox build, first hand-over, deliveries per second with 1 and 2
workers against local providers) come from ``bench/alertes.py``.
"""
