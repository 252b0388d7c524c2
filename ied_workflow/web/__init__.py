"""The HTTP edge: FastAPI on uvicorn, calling only `Workflow` methods.

Nothing outside this package imports FastAPI; `create_app` builds the ASGI app.
"""
