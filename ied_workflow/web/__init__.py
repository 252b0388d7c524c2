"""The HTTP edge: FastAPI on uvicorn, calling only `Workflow` methods.

`api/` answers other IED systems (JSON, tokens), `console/` answers people (pages, a
session). What both use sits here: `app` (`served_app` is what `serve` runs,
`create_app` what tests build), `process` (the server's threads), `count_cache`
(dashboard counts shared for a moment), `page_cursors`, `middleware` and `metrics`.
Nothing outside this package imports FastAPI.
"""
