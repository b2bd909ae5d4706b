import psycopg2
from flask import Flask
from lxml import etree

app = Flask(__name__)


@app.get("/")
def index():
    root = etree.fromstring("<v>%s</v>" % psycopg2.__version__)
    return root.text
