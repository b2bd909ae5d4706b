"""python-fastapi: small JSON API."""
from fastapi import FastAPI

from items import ITEMS

app = FastAPI(title="python-fastapi")


@app.get("/")
def root() -> dict:
    return {"service": "python-fastapi", "items": len(ITEMS)}


@app.get("/items/{item_id}")
def item(item_id: int) -> dict:
    return ITEMS.get(item_id, {})
