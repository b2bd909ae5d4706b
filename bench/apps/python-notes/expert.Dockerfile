# Expert version: already small; exec-form CMD so signals reach Python, a non-root user.
FROM python:3.12-slim
ENV PYTHONUNBUFFERED=1 PORT=8080
WORKDIR /app
COPY server.py .
RUN mkdir -p /app/data && chown nobody /app/data
VOLUME /app/data
EXPOSE 8080
USER nobody
CMD ["python", "server.py"]
