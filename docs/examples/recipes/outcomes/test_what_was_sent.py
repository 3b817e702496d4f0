import httpx

from pytest_trigger_batches import MockTriggerApi


def test_what_the_app_sent_and_the_batch_it_made(
    mock_trigger_api: MockTriggerApi,
) -> None:
    mock_trigger_api.on_item(task="audit", outcome="queue_limit")
    key = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}
    body = {"items": [{"task": "send-invoice", "payload": {"invoice": 7}}]}
    retry = {"x-trigger-request-idempotency-key": "invoice-7"}
    with httpx.Client(base_url=mock_trigger_api.base_url, headers=key) as client:
        first = client.post("/api/v2/tasks/batch", json=body, headers=retry)
        again = client.post("/api/v2/tasks/batch", json=body, headers=retry)  # a retry
        refused = client.post("/api/v1/tasks/audit/trigger", json={"payload": {}})
    assert [first.status_code, again.status_code, refused.status_code] == [
        202,
        200,
        422,
    ]

    sent = [(item.task, item.answer) for item in mock_trigger_api.triggered]
    assert sent == [
        ("send-invoice", "created"),
        ("send-invoice", "cached"),  # answered with what the first request made
        ("audit", "refused"),
    ]
    mock_trigger_api.assert_triggered("send-invoice", count=1)  # new work only
    mock_trigger_api.assert_triggered(count=3, answer=None)  # everything sent

    made = mock_trigger_api.triggered_batches[-1]  # the batch the app just created
    assert (made.id, made.route) == (first.json()["id"], "POST /api/v2/tasks/batch")
    assert made.batch.status == "PENDING"
    assert len(made.batch.runs) == 1
