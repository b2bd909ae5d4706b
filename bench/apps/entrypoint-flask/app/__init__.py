import os

from flask import Flask, jsonify


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def index():
        with open(os.environ.get("APP_CONFIG", "/app/config/runtime.json")) as fh:
            return fh.read(), 200, {"Content-Type": "application/json"}

    @app.get("/health")
    def health():
        return jsonify(ok=True)

    return app
