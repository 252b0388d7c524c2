"""The HTTP API for other IED systems: `/api/v1`, bearer tokens, JSON and problem details."""
