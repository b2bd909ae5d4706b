"""A tiny web app used as msdfix's bundled example."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index() -> str:
    return "hello from the example app\n"


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=8000)
