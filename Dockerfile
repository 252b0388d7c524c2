# One image for the migration step, the worker, beat and the HTTP API (`serve`).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config ./config
COPY ied_workflow ./ied_workflow
COPY workers ./workers
RUN pip install --no-cache-dir .
USER nobody
CMD ["ied-workflow", "--help"]
