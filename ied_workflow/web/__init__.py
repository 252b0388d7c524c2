"""The HTTP edge: FastAPI on uvicorn, calling only `Workflow` methods.

Nothing outside this package imports FastAPI; `app.served_app` is what `serve` runs,
`app.create_app` the ASGI app that tests build around their own workflow.
"""
