"""The endpoints the mock serves: one row each (method, path, handler, route options)."""

from __future__ import annotations

from pytest_trigger_batches.handlers import batches
from pytest_trigger_batches.routes import Route, RouteTable

__all__ = ["TABLE"]

TABLE = RouteTable(
    [
        Route(
            "GET",
            "/api/v1/batches/{batchId}",
            batches.retrieve_batch,
            allow_jwt=True,
            retry_not_found=True,
        ),
        Route(
            "GET",
            "/api/v2/batches/{batchId}",
            batches.retrieve_batch,
            allow_jwt=True,
            retry_not_found=True,
        ),
    ]
)
