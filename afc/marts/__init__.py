"""The dashboard marts: importing this package registers their refreshers with `afc.mart`.

Each refresher rebuilds only the rows for the keys a response touched (`batch.touch`), with keyed
queries served by indexes, so its cost follows what changed, not the size of the database.
"""

from afc.marts import (  # noqa: F401
    coverage,  # noqa: E402,F401  (mart.coverage_status)
    daily,
    live,
    summary,
)
