"""Jobs into requests: expansion, running, dry runs, daily and bootstrap (the jobs layer)."""
