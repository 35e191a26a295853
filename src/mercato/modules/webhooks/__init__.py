"""Outbound webhooks for integrators: signed deliveries of domain events, with retries.

Nothing to import from here: the module subscribes to every domain event itself.
"""
