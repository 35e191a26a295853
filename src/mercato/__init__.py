"""Mercato: an open, multi-tenant commerce platform for retailers."""

__version__ = "0.1.0"
