"""The collection step, the quota ledger, raw, runs, the breaker and rebuild (the collect layer)."""
