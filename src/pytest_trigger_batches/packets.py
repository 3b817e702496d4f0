"""The object store behind large payloads and outputs: packets, and the URLs that reach them.

The platform presigns object-store URLs (`apps/webapp/app/v3/objectStore.server.ts`); the
mock signs URLs on its own origin, `/packets/<project>/<environment>/<path>`, and serves
them itself: a `PUT` stores the body, a `GET` answers it. A URL is good for one method, for
five minutes, and names its object; anything else is refused as the object store refuses
it (an XML error). The key signing the URLs comes from the mock's default key and never
appears in one.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from pytest_trigger_batches.rules import PACKET_URL_SECONDS, PROJECT_REF
from pytest_trigger_batches.timefmt import from_ms

__all__ = ["Packet", "PacketStore"]

_DATE = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True, slots=True)
class Packet:
    """A stored object: its bytes and the content type it was stored with."""

    data: bytes
    content_type: str


class PacketStore:
    """Objects by environment and path, and the signatures of the URLs that reach them."""

    def __init__(self, secret: str) -> None:
        self._secret = hashlib.sha256(f"packets:{secret}".encode()).digest()
        self._objects: dict[tuple[str, str], Packet] = {}

    def reset(self) -> None:
        """No objects any more."""
        self._objects.clear()

    def url(self, base_url: str, environment: str, path: str, method: str, now_ms: int) -> str:
        """A presigned URL for `method` on the object `path` of `environment`."""
        date = from_ms(now_ms).strftime(_DATE)
        signature = self._sign(method, environment, path, date)
        return (
            f"{base_url}/packets/{PROJECT_REF}/{quote(environment)}/{quote(path)}"
            "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            f"&X-Amz-Date={date}&X-Amz-Expires={PACKET_URL_SECONDS}"
            f"&X-Amz-SignedHeaders=host&X-Amz-Signature={signature}"
        )

    def refusal(
        self, query: dict[str, list[str]], method: str, environment: str, path: str, now_ms: int
    ) -> str | None:
        """Why the object store refuses a URL (`SignatureDoesNotMatch`, `AccessDenied`...),
        or None when its signature, method and time are good."""

        def one(name: str) -> str:
            values = query.get(name, [])
            return values[0] if len(values) == 1 else ""

        date, signature = one("X-Amz-Date"), one("X-Amz-Signature")
        if not date or not signature:
            return "AccessDenied"
        expected = self._sign(method, environment, path, date)
        if not hmac.compare_digest(expected, signature):
            return "SignatureDoesNotMatch"
        try:
            signed_ms = int(datetime.strptime(date, _DATE).replace(tzinfo=UTC).timestamp() * 1000)
        except ValueError:
            return "AccessDenied"
        if now_ms > signed_ms + PACKET_URL_SECONDS * 1000:
            return "Expired"
        return None

    def put(self, environment: str, path: str, packet: Packet) -> None:
        """Store `packet` at `path` (replacing what was there)."""
        self._objects[(environment, path)] = packet

    def get(self, environment: str, path: str) -> Packet | None:
        """The object at `path`, or None."""
        return self._objects.get((environment, path))

    def _sign(self, method: str, environment: str, path: str, date: str) -> str:
        text = f"{method}\n{PROJECT_REF}/{environment}/{path}\n{date}"
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()
