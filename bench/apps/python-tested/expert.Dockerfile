# Expert version: the checks in a test stage (`docker build --target test .` in CI), the
# production stage without pytest/ruff or the tests, exec-form CMD, a non-root user.
FROM python:3.12-slim AS base
ENV PYTHONUNBUFFERED=1
WORKDIR /app
COPY server.py .

FROM base AS test
COPY test_server.py .
RUN pip install --no-cache-dir pytest ruff && ruff check . && python -m pytest -q

FROM base
EXPOSE 8080
USER nobody
CMD ["python", "server.py"]
