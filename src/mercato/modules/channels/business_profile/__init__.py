"""Google Business Profile: the merchant's locations and their daily insights, imported
through the tenant's Google link (`importer`), read and linked to our locations
(`service`). No sibling uses it; the channels router and jobs mount its `router` and
`jobs`."""

__all__: list[str] = []
