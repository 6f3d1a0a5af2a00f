"""Module `liens_services`: online services."""
