"""HTTP routes (CONTRACT §5) — placeholder until the routes land."""

from functools import cache

from fastapi import FastAPI


@cache
def create_api() -> FastAPI:
    api = FastAPI()

    @api.get("/health")
    def health():
        return {"status": "ok"}

    return api
