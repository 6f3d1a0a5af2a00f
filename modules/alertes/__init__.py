"""Module `alertes`: alerts and communications."""
