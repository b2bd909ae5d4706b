# Expert version: wheels compiled in a builder with the -dev packages, runtime libraries only.
FROM python:3.12-alpine AS build
RUN apk add --no-cache gcc musl-dev postgresql-dev libxml2-dev libxslt-dev
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

FROM python:3.12-alpine
RUN apk add --no-cache libpq libxml2 libxslt
ENV PATH=/opt/venv/bin:$PATH
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY app.py ./
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
