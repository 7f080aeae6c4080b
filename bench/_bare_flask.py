"""The issue's floor for the HTTP bench: a bare Flask app with one route, served by the same
gunicorn settings as the portal (``gunicorn --pythonpath bench _bare_flask:app``)."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def ok():
    return "ok"
