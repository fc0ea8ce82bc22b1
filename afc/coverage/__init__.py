"""Coverage: what the database holds versus what exists, per tracked league season and endpoint.

`compute` scores count, freshness and pipeline; `gaps` turns what is missing into the cheapest
calls that would fill it (`afc backfill --from-gaps`); `afc.marts.coverage` keeps
`mart.coverage_status` current.
"""

from afc.config.coverage import ENDPOINTS, CoverageConfig, coverage_config
from afc.coverage.gaps import gaps
from afc.marts.coverage.calculate import compute, select
from afc.marts.coverage.model import Coverage, CoverageReport, Gap

__all__ = ["ENDPOINTS", "Coverage", "CoverageConfig", "CoverageReport", "Gap", "compute", "coverage_config",
           "gaps", "select"]
