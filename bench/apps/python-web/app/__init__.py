"""python-web: Flask app with a PostgreSQL driver compiled from source (psycopg2)."""
import os

import psycopg2
from flask import Flask, jsonify


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def index():
        return jsonify(service="python-web", psycopg2=psycopg2.__version__.split()[0])

    @app.get("/db")
    def db():
        dsn = os.environ.get("DATABASE_URL")
        if not dsn:
            return jsonify(error="DATABASE_URL not set"), 503
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute("select 1")
            return jsonify(result=cur.fetchone()[0])

    return app
