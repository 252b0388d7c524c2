# One image for the migration step, the worker, beat and the HTTP API (the default).
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# Dependencies first, pinned by constraints.txt, so a code change reuses this layer.
COPY constraints.txt pyproject.toml README.md ./
COPY config ./config
COPY ied_workflow ./ied_workflow
COPY workers ./workers
RUN pip install --no-cache-dir -c constraints.txt .
USER nobody
EXPOSE 8000
# The API's liveness; compose gives the worker and beat their own checks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"]
CMD ["ied-workflow", "serve", "--host", "0.0.0.0", "--port", "8000"]
