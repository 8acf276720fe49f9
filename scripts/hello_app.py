"""The baseline for the page benchmarks: a bare Flask hello-world app, served
by the same gunicorn settings as the clinic (``gunicorn hello_app:app``)."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
