"""The read model: every response body about campaigns and calls is rendered here.

Services return domain results (ORM rows, pages); the routes hand them to these functions,
which read what else a body needs and render it. The heavy parts (a campaign's call map and
audience, counters) are aggregated into JSON by PostgreSQL and spliced unparsed into the body.
"""
