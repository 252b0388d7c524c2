"""The API's routes, one module per resource; each handler calls one `Workflow` method."""

PREFIX = "/api/v1"  # on each router, so a route's path (a metrics label) is the full one
