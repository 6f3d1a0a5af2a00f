"""Module `actualites`: news."""
