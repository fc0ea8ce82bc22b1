"""The HTTP client and the endpoint catalogue (the api layer)."""
