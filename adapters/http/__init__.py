"""The HTTP API adapter: FastAPI app factory, settings and JWT helpers."""

from adapters.http.app import create_app
from adapters.http.settings import HttpSettings

__all__ = ["HttpSettings", "create_app"]
