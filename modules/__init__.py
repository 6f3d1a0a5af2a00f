"""The hub's modules; each is a Django app registered through an entry point."""
