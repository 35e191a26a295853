"""Screen modules: one file per capability, each with `router`, `SCREENS` and `PANELS`.

Discovered by `mercato.web.registry.discover`; a file whose capability module is not
installed yet is left out with its nav entries.
"""
