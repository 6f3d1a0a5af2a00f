"""Module `requetes`: service requests."""
