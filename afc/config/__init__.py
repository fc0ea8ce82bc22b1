"""Settings, job files and their validated section models (the config layer)."""
