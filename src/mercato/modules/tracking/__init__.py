"""Tracking: behavioural events, their import from GA4, and the shop simulator."""
