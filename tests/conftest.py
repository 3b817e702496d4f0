"""Shared helpers for the core tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

SPEC = Path(__file__).parent / "data" / "retrieve_batch_openapi.yaml"


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 `nullable: true` -> JSON Schema `type: [T, "null"]`, recursively."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") is True:
        converted["type"] = [node["type"], "null"]
    return converted


@pytest.fixture(scope="session")
def documented_schema() -> dict[str, Any]:
    """The published 200-response schema of GET /api/v1/batches/{batchId}, as JSON Schema."""
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    operation = spec["paths"]["/api/v1/batches/{batchId}"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    return _json_schema(schema)
