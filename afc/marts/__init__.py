"""The dashboard marts, kept current by `afc.marts.refresh` in the transaction that stored their core rows.

Each refresher rebuilds only the rows for the keys a response touched (`batch.touch`), with keyed
queries served by indexes, so its cost follows what changed, not the size of the database.
"""
