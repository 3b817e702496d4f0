"""Results and large payloads: a run's and a batch's results, packet URLs, the packets.

- `GET /api/v1/runs/{runId}/result`, `GET /api/v1/batches/{batchId}/results`: secret
  keys only, each with its own 401 and 404 texts;
- `PUT /api/v2/packets/{name}` (the SDK's upload), `PUT`/`GET /api/v1/packets/{name}`:
  presigned URLs for an object of the key's environment;
- `PUT`/`GET /packets/...`: the object store itself, reached by those URLs only
  (docs/platform.md §11).
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from pytest_trigger_batches.errors import PlatformError, json_bytes
from pytest_trigger_batches.pipeline import Reply
from pytest_trigger_batches.rules import (
    BATCH_RESULTS_NOT_FOUND,
    INVALID_PACKET_PATH,
    OBJECT_STORE_ERRORS,
    PROJECT_REF,
    RUN_RESULT_NOT_FOUND,
)

if TYPE_CHECKING:
    from pytest_trigger_batches.backend import TriggerBackend
    from pytest_trigger_batches.pipeline import Context

_XML = "application/xml"
_PROTOCOL_RE = re.compile(r"([a-z0-9]+)://(?=.)", re.DOTALL)
# WHATWG's path percent-encode set: what `new URL(...).pathname = path` encodes.
_PATH_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"#<>?`{}')


def run_result(context: Context, backend: TriggerBackend) -> Reply:
    """`TaskRunExecutionResult` of a run of the key's environment, or the route's 404."""
    run = backend.run(context.params["runId"], context.environment)
    result = None if run is None else backend.run_result(run, context.now_ms)
    if result is None:
        raise PlatformError.message(404, RUN_RESULT_NOT_FOUND)
    return Reply(200, json_bytes(result))


def batch_results(context: Context, backend: TriggerBackend) -> Reply:
    """`BatchTaskRunExecutionResult` of a batch of the key's environment."""
    batch = backend.batch(context.params["batchId"], context.environment)
    if batch is None:
        raise PlatformError.message(404, BATCH_RESULTS_NOT_FOUND)
    return Reply(200, json_bytes(backend.batch_results(batch, context.now_ms)))


def upload_url_v2(context: Context, backend: TriggerBackend) -> Reply:
    """`{presignedUrl, storagePath}`: where to PUT the packet, and how to name it after
    (with the `<protocol>://` the name had, if any)."""
    path, url = _presigned(context, backend, "PUT")
    protocol = _protocol(context.params["name"])
    storage_path = f"{protocol}://{path}" if protocol else path
    return Reply(200, json_bytes({"presignedUrl": url, "storagePath": storage_path}))


def upload_url_v1(context: Context, backend: TriggerBackend) -> Reply:
    """`{presignedUrl}` to PUT the packet (the older route: no storage path)."""
    _, url = _presigned(context, backend, "PUT")
    return Reply(200, json_bytes({"presignedUrl": url}))


def download_url(context: Context, backend: TriggerBackend) -> Reply:
    """`{presignedUrl}` to GET the packet (whether it exists or not)."""
    _, url = _presigned(context, backend, "GET")
    return Reply(200, json_bytes({"presignedUrl": url}))


def _presigned(context: Context, backend: TriggerBackend, method: str) -> tuple[str, str]:
    """The packet's path (`_packet_path`) and a presigned URL for `method` on it."""
    path = _packet_path(context)
    url = backend.packet_url(
        context.environment, path, method, base_url=context.base_url, now_ms=context.now_ms
    )
    return path, url


def _packet_path(context: Context) -> str:
    """The packet's path as the object store keys it: a `<protocol>://` prefix dropped,
    then checked and normalized as a URL path (400 for an unsafe one)."""
    name = context.params["name"]
    protocol = _protocol(name)
    path = name[len(protocol) + 3 :] if protocol else name
    if not _safe(path):
        raise PlatformError.message(400, INVALID_PACKET_PATH)
    normalized = quote(path, safe=_PATH_SAFE)
    if not _safe(normalized):
        raise PlatformError.message(400, INVALID_PACKET_PATH)
    return normalized


def _protocol(name: str) -> str:
    """The `<protocol>` of a name written `<protocol>://<path>` (lower-case letters and
    digits, as `parseStorageUri` reads it), else ""."""
    found = _PROTOCOL_RE.match(name)
    return found.group(1) if found else ""


def _safe(path: str) -> bool:
    if not path or "\\" in path or path.startswith("/"):
        return False
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            return False
        if "%" in segment:
            try:
                decoded = unquote(segment, errors="strict")
            except UnicodeDecodeError:
                return False
            if decoded in (".", "..") or "/" in decoded:
                return False
    return True


def put_object(context: Context, backend: TriggerBackend) -> Reply:
    """An upload through a presigned PUT URL: the body is stored with its content type."""
    environment, path = _signed(context, backend, "PUT")
    content_type = context.headers.get("content-type", "binary/octet-stream")
    backend.store_packet(environment, path, context.body, content_type)
    return Reply(200, b"", {"etag": _etag(context.body)})


def get_object(context: Context, backend: TriggerBackend) -> Reply:
    """A download through a presigned GET URL: the object, with the type it was stored with."""
    environment, path = _signed(context, backend, "GET")
    packet = backend.packet(environment, path)
    if packet is None:
        raise _object_error("NoSuchKey")
    headers = {"content-type": packet.content_type, "etag": _etag(packet.data)}
    return Reply(200, packet.data, headers)


def _etag(data: bytes) -> str:
    return f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'


def _signed(context: Context, backend: TriggerBackend, method: str) -> tuple[str, str]:
    """The environment and path a presigned URL names, once its signature checks out."""
    environment, path = context.params["environment"], context.params["key"]
    refusal: str | None = "SignatureDoesNotMatch"
    if context.params["project"] == PROJECT_REF and environment in backend.environments():
        refusal = backend.packet_refusal(context.query, method, environment, path, context.now_ms)
    if refusal is not None:
        raise _object_error(refusal)
    return environment, path


def _object_error(code: str) -> PlatformError:
    status, message = OBJECT_STORE_ERRORS[code]
    shown_code = "AccessDenied" if code == "Expired" else code
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{shown_code}</Code><Message>{message}</Message></Error>"
    )
    return PlatformError(status, body.encode(), content_type=_XML, cors=False)
