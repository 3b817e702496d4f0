import httpx

from pytest_trigger_batches import BatchFactory, MockTriggerApi


def test_a_registered_batch_and_its_runs(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory
) -> None:
    batch = trigger_batch_factory("COMPLETED", run_count=3)
    runs = trigger_batch_factory.runs_of(batch, task_identifier="send-email")
    mock_trigger_api.add_batch(batch, runs=runs)

    key = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}
    with httpx.Client(base_url="https://api.trigger.dev", headers=key) as client:
        listed = client.get("/api/v1/runs", params={"filter[batch]": batch.id}).json()[
            "data"
        ]
        first = client.get(f"/api/v3/runs/{batch.runs[0]}").json()
    assert sorted(run["id"] for run in listed) == sorted(batch.runs)
    assert first == runs[0].to_payload()
    assert first["isSuccess"]
