"""Results and large payloads (docs/platform.md §11), over every transport.

A run's and a batch's results, the packet routes' presigned URLs, and those URLs served
by the mock itself: what is uploaded through one is what a run shows and a download reads.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from wire import Wire

NOW = 1_780_000_000.0
NOT_FINISHED = {"error": "Run either doesn't exist or is not finished"}
CANCELLED = {"type": "INTERNAL_ERROR", "code": "TASK_RUN_CANCELLED"}
UNKNOWN_RUN = "run_cmx0ugyuv00014a7da3uz70rc"
URL_RE = re.compile(
    r"(?P<origin>.+)/packets/proj_pytesttriggerbatches/dev/(?P<path>[^?]+)"
    r"\?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=(?P<date>\d{8}T\d{6}Z)&X-Amz-Expires=300"
    r"&X-Amz-SignedHeaders=host&X-Amz-Signature=[0-9a-f]{64}"
)
XML_ERROR = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{}</Code><Message>{}</Message></Error>'
)


def post(w: Wire, path: str, body: object, **options: Any) -> httpx.Response:
    return w.send("POST", path, content=json.dumps(body).encode(), **options)


def one_shot(w: Wire, *items: dict[str, Any]) -> tuple[str, list[str]]:
    answer = post(w, "/api/v1/tasks/batch", {"items": list(items)}).json()
    return answer["id"], [run["id"] for run in answer["runs"]]


def trigger(w: Wire, payload: object, **options: object) -> str:
    body = {"payload": payload, "options": options} if options else {"payload": payload}
    answer = post(w, "/api/v1/tasks/big/trigger", body)
    assert answer.status_code == 200, answer.text
    run_id: str = answer.json()["id"]
    return run_id


def result(w: Wire, run_id: str, **options: Any) -> httpx.Response:
    return w.send("GET", f"/api/v1/runs/{run_id}/result", **options)


def follow(w: Wire, url: str, method: str = "GET", **options: Any) -> httpx.Response:
    """A request to a presigned URL, as a client makes it: no Authorization header."""
    assert url.startswith(w.api.base_url + "/packets/"), url
    return w.send(method, url.removeprefix(w.api.base_url), key=None, **options)


def upload_url(w: Wire, name: str, *, version: int = 2, **options: Any) -> httpx.Response:
    return w.send("PUT", f"/api/v{version}/packets/{quote(name, safe='')}", **options)


def download_url(w: Wire, name: str, **options: Any) -> httpx.Response:
    return w.send("GET", f"/api/v1/packets/{quote(name, safe='')}", **options)


# -- GET /api/v1/runs/{runId}/result ----------------------------------------------------


def test_a_run_has_no_result_until_cancelled_because_engine_v2_runs_keep_no_attempts(
    wire: Wire,
) -> None:
    wire.api.on_run(task="ok", outcome="COMPLETED", output={"sent": True})
    wire.api.on_run(task="bad", outcome="FAILED")
    wire.api.on_run(task="q", hold="queued")
    _, [done, failed, queued] = one_shot(wire, {"task": "ok"}, {"task": "bad"}, {"task": "q"})
    assert [result(wire, run_id).status_code for run_id in (done, failed, queued)] == [404] * 3
    for _ in range(3):
        wire.send("GET", f"/api/v3/runs/{done}")
    assert wire.send("GET", f"/api/v3/runs/{done}").json()["status"] == "COMPLETED"
    for run_id in (done, failed, UNKNOWN_RUN):
        answer = result(wire, run_id)
        assert (answer.status_code, answer.json()) == (404, NOT_FINISHED)
        assert "x-should-retry" not in answer.headers
    post(wire, f"/api/v2/runs/{queued}/cancel", None)
    answer = result(wire, queued)
    body = {"ok": False, "id": queued, "taskIdentifier": "q", "error": CANCELLED}
    assert (answer.status_code, answer.json()) == (200, body)
    assert answer.content == json.dumps(body, separators=(",", ":")).encode()
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    assert "x-ratelimit-limit" in answer.headers
    assert "access-control-expose-headers" not in answer.headers  # no CORS on this route


def test_another_environments_run_has_no_result(wire: Wire) -> None:
    run_id = trigger(wire, 1)
    post(wire, f"/api/v2/runs/{run_id}/cancel", None)
    prod = "tr_prod_" + "P" * 24
    answer = result(wire, run_id, key=prod)
    assert (answer.status_code, answer.json()) == (404, NOT_FINISHED)


@pytest.mark.parametrize("path", ["/api/v1/runs/{run}/result", "/api/v1/batches/{batch}/results"])
def test_the_result_routes_take_secret_keys_only_with_their_own_401(wire: Wire, path: str) -> None:
    batch_id, [run_id] = one_shot(wire, {"task": "a"})
    target = path.format(run=run_id, batch=batch_id)
    token = wire.api.public_token(scopes=["read:all"])
    for key in ("tr_dev_nope", token, "tr_preview_" + "A" * 24):
        answer = wire.send("GET", target, key=key)
        assert (answer.status_code, answer.json()) == (401, {"error": "Invalid or Missing API Key"})
    bare = wire.send("GET", target, key=None)
    assert bare.status_code == 401
    assert bare.headers["content-type"] == "application/problem+json; charset=utf-8"


# -- GET /api/v1/batches/{batchId}/results ----------------------------------------------


def test_a_v1_batchs_results_are_its_cancelled_runs_in_item_order(wire: Wire) -> None:
    batch_id, runs = one_shot(wire, *({"task": f"t{n}"} for n in range(4)))
    for run_id in (runs[3], runs[1]):
        post(wire, f"/api/v2/runs/{run_id}/cancel", None)
    answer = wire.send("GET", f"/api/v1/batches/{batch_id}/results")
    items = [
        {"ok": False, "id": runs[n], "taskIdentifier": f"t{n}", "error": CANCELLED} for n in (1, 3)
    ]
    assert (answer.status_code, answer.json()) == (200, {"id": batch_id, "items": items})


def test_v2_and_streaming_batches_have_no_item_records_so_no_results(wire: Wire) -> None:
    made = post(wire, "/api/v2/tasks/batch", {"items": [{"task": "a"}, {"task": "b"}]}).json()
    for run_id in json.loads(wire.get_batch(made["id"]).content)["runs"]:
        post(wire, f"/api/v2/runs/{run_id}/cancel", None)
    answer = wire.send("GET", f"/api/v1/batches/{made['id']}/results")
    assert (answer.status_code, answer.json()) == (200, {"id": made["id"], "items": []})
    streaming = post(wire, "/api/v3/batches", {"runCount": 1}).json()["id"]
    answer = wire.send("GET", f"/api/v1/batches/{streaming}/results")
    assert answer.json() == {"id": streaming, "items": []}


def test_an_unknown_or_another_environments_batch_has_no_results(wire: Wire) -> None:
    batch_id, _ = one_shot(wire, {"task": "a"})
    for target, key in (
        ("batch_cmx0ugyuv00014a7da3uz70rc", "default"),
        (batch_id, "tr_prod_" + "P" * 24),
    ):
        answer = wire.send("GET", f"/api/v1/batches/{target}/results", key=key)
        assert (answer.status_code, answer.json()) == (404, {"error": "Batch not found"})
        assert "x-should-retry" not in answer.headers


# -- packets: presigned URLs the mock serves -------------------------------------------


def test_what_is_put_through_an_upload_url_is_read_back_through_a_download_url(
    wire: Wire,
) -> None:
    name = "trigger/packet_abc/payload.json"
    answer = upload_url(wire, name)
    assert answer.status_code == 200
    assert set(answer.json()) == {"presignedUrl", "storagePath"}
    assert answer.json()["storagePath"] == name
    put_url = answer.json()["presignedUrl"]
    found = URL_RE.fullmatch(put_url)
    assert found is not None
    assert (found["origin"], found["path"]) == (wire.api.base_url, name)
    stored = follow(wire, put_url, "PUT", content=b'{"big":1}', headers={"content-type": "a/b"})
    assert (stored.status_code, stored.content) == (200, b"")
    digest = hashlib.md5(b'{"big":1}', usedforsecurity=False).hexdigest()
    assert stored.headers["etag"] == f'"{digest}"'
    get_url = download_url(wire, name).json()["presignedUrl"]
    assert get_url != put_url
    got = follow(wire, get_url)
    assert (got.status_code, got.content, got.headers["content-type"]) == (200, b'{"big":1}', "a/b")
    v1 = upload_url(wire, name, version=1)
    assert list(v1.json()) == ["presignedUrl"]  # the older route names no storage path


def test_a_presigned_url_is_refused_tampered_for_another_method_or_expired(wire: Wire) -> None:
    now = [NOW]
    wire.api.clock = lambda: now[0]
    put_url = upload_url(wire, "a/b.json").json()["presignedUrl"]
    mismatch = XML_ERROR.format(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
    )
    for url, method in (
        (put_url, "GET"),  # signed for PUT
        (put_url.replace("/a/b.json", "/a/c.json"), "PUT"),
        (put_url[:-1] + ("0" if put_url[-1] != "0" else "1"), "PUT"),
        (put_url.replace("/dev/", "/prod/"), "PUT"),
    ):
        refused = follow(wire, url, method, content=b"x")
        assert (refused.status_code, refused.text) == (403, mismatch), url
        assert refused.headers["content-type"] == "application/xml"
    unsigned = follow(wire, put_url.split("?")[0], "PUT", content=b"x")
    assert (unsigned.status_code, unsigned.text) == (
        403,
        XML_ERROR.format("AccessDenied", "Access Denied"),
    )
    get_url = download_url(wire, "a/b.json").json()["presignedUrl"]
    missing = follow(wire, get_url)
    assert (missing.status_code, missing.text) == (
        404,
        XML_ERROR.format("NoSuchKey", "The specified key does not exist."),
    )
    now[0] += 300
    assert follow(wire, put_url, "PUT", content=b"x").status_code == 200  # 300 s: still good
    now[0] += 1
    expired = follow(wire, put_url, "PUT", content=b"y")
    assert (expired.status_code, expired.text) == (
        403,
        XML_ERROR.format("AccessDenied", "Request has expired"),
    )


@pytest.mark.parametrize(
    "name",
    ["../x.json", "a//b.json", "/abs.json", "a\\b.json", "a/./b.json", "a/%2E%2E/b", "a/%2F"],
)
def test_an_unsafe_packet_name_is_400_invalid_packet_storage_path(wire: Wire, name: str) -> None:
    for answer in (
        upload_url(wire, name),
        upload_url(wire, name, version=1),
        download_url(wire, name),
    ):
        assert (answer.status_code, answer.json()) == (
            400,
            {"error": "Invalid packet storage path"},
        )


def test_a_protocol_prefix_stays_in_the_storage_path_but_not_in_the_object_key(wire: Wire) -> None:
    answer = upload_url(wire, "s3://runs/p.json").json()
    assert answer["storagePath"] == "s3://runs/p.json"
    found = URL_RE.fullmatch(answer["presignedUrl"])
    assert found is not None
    assert found["path"] == "runs/p.json"


def test_upload_urls_take_secret_keys_and_download_urls_public_tokens_too(wire: Wire) -> None:
    token = wire.api.public_token(scopes=["read:runs"])
    for version in (1, 2):
        answer = upload_url(wire, "a.json", version=version, key=token)
        assert (answer.status_code, answer.json()) == (401, {"error": "Invalid or Missing API key"})
    assert download_url(wire, "a.json", key=token).status_code == 200
    answer = download_url(wire, "a.json", key="tr_dev_nope")
    assert (answer.status_code, answer.json()) == (401, {"error": "Invalid API key"})


# -- what a run shows ---------------------------------------------------------------------


def test_a_run_triggered_with_a_stored_payload_shows_a_url_that_serves_it(wire: Wire) -> None:
    answer = upload_url(wire, "trigger/packet_x/payload.json").json()
    follow(
        wire,
        answer["presignedUrl"],
        "PUT",
        content=b"[1,2]",
        headers={"content-type": "application/json"},
    )
    run_id = trigger(wire, answer["storagePath"], payloadType="application/store")
    run = wire.send("GET", f"/api/v3/runs/{run_id}").json()
    assert "payload" not in run
    found = URL_RE.fullmatch(run["payloadPresignedUrl"])
    assert found is not None
    assert found["path"] == "trigger/packet_x/payload.json"
    got = follow(wire, run["payloadPresignedUrl"])
    assert (got.content, got.headers["content-type"]) == (b"[1,2]", "application/json")


def test_an_inline_payload_of_512_kib_or_more_is_stored_by_the_platform(wire: Wire) -> None:
    # A string payload is stored as its JSON text: two quotes more than its length.
    under = trigger(wire, "u" * (512 * 1024 - 3))
    at = trigger(wire, "a" * (512 * 1024 - 2))
    shown = wire.send("GET", f"/api/v3/runs/{under}").json()
    assert shown["payload"] == "u" * (512 * 1024 - 3)
    assert "payloadPresignedUrl" not in shown
    run = wire.send("GET", f"/api/v3/runs/{at}").json()
    assert "payload" not in run
    found = URL_RE.fullmatch(run["payloadPresignedUrl"])
    assert found is not None
    assert found["path"] == f"{at}/payload.json"
    got = follow(wire, run["payloadPresignedUrl"])
    assert json.loads(got.content) == "a" * (512 * 1024 - 2)


def test_an_output_of_128_kib_or_more_is_shown_as_a_url(wire: Wire) -> None:
    wire.api.on_run(task="big", outcome="COMPLETED", output={"blob": "o" * (128 * 1024)})
    wire.api.on_run(task="small", outcome="COMPLETED", output={"blob": "s" * (64 * 1024)})
    big = trigger(wire, 1)
    small = post(wire, "/api/v1/tasks/small/trigger", {"payload": 1}).json()["id"]
    for run_id in (big, small):
        for _ in range(2):
            wire.send("GET", f"/api/v3/runs/{run_id}")
    done = wire.send("GET", f"/api/v3/runs/{big}").json()
    assert done["status"] == "COMPLETED"
    assert "output" not in done
    found = URL_RE.fullmatch(done["outputPresignedUrl"])
    assert found is not None
    assert found["path"] == f"{big}-1/output.json"
    assert json.loads(follow(wire, done["outputPresignedUrl"]).content) == {
        "blob": "o" * 128 * 1024
    }
    inline = wire.send("GET", f"/api/v3/runs/{small}").json()
    assert inline["output"] == {"blob": "s" * (64 * 1024)}
    assert "outputPresignedUrl" not in inline


def test_reset_forgets_the_stored_packets(wire: Wire) -> None:
    put_url = upload_url(wire, "kept.json").json()["presignedUrl"]
    follow(wire, put_url, "PUT", content=b"1")
    wire.api.reset()
    assert follow(wire, download_url(wire, "kept.json").json()["presignedUrl"]).status_code == 404


@pytest.mark.parametrize(
    "target",
    [
        "run_",
        "run_%00",
        "x" * 3000,
        "run_%F0%9F%98%80",
        "%E2%80%A8",
        "run_cmx0ugyuv00014a7da3uz70rc%2F",
    ],
)
def test_a_malformed_run_or_batch_id_is_the_routes_404(wire: Wire, target: str) -> None:
    for path, message in (
        (f"/api/v1/runs/{target}/result", NOT_FINISHED),
        (f"/api/v1/batches/{target}/results", {"error": "Batch not found"}),
    ):
        answer = wire.send("GET", path)
        assert (answer.status_code, answer.json()) == (404, message), path


@pytest.mark.parametrize(
    "query",
    [
        "",
        "X-Amz-Date=bad&X-Amz-Signature=00",
        "X-Amz-Date=20260101T000000Z&X-Amz-Date=20260101T000000Z&X-Amz-Signature=00",
        "X-Amz-Signature=%ZZ&X-Amz-Date=%00",
    ],
)
def test_a_malformed_presigned_query_is_403_never_a_crash(wire: Wire, query: str) -> None:
    path = "/packets/proj_pytesttriggerbatches/dev/a.json" + (f"?{query}" if query else "")
    for method in ("PUT", "GET"):
        answer = wire.send(method, path, key=None, content=b"x" if method == "PUT" else None)
        assert answer.status_code == 403, (method, answer.text)
        assert answer.text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>')


def test_the_api_shows_what_was_uploaded_and_refuses_a_bad_path(wire: Wire) -> None:
    put_url = upload_url(wire, "trigger/packet_k/payload.json").json()["presignedUrl"]
    follow(wire, put_url, "PUT", content=b'{"n":1}')
    assert wire.api.packet("trigger/packet_k/payload.json") == b'{"n":1}'
    assert wire.api.packet("trigger/packet_k/payload.json", environment="prod") is None
    assert wire.api.packet("other.json") is None
    with pytest.raises(ValueError, match=r"^path must be a packet's storage path, .*; got ''$"):
        wire.api.packet("")
    with pytest.raises(ValueError, match=r"^environment must be one a key belongs to: "):
        wire.api.packet("a.json", environment="qa")
