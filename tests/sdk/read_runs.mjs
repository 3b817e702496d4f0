// Read, list, cancel and replay runs through the official Trigger.dev SDK, as an
// application does:
//
//   TRIGGER_API_URL=... TRIGGER_SECRET_KEY=... node read_runs.mjs PLAN_JSON
//
// PLAN_JSON is {"items": [...], "polls": N, "pageSize": N, "single": {...}, "replay": I}:
//
// 1. `batch.trigger(items)` ({"id": "<task>", "payload": ..., "options": ...} each);
// 2. `batch.retrieve` until the batch is COMPLETED or ABORTED, at most `polls` times;
// 3. `runs.retrieve(id)` for every run of the batch, in the batch's order;
// 4. `runs.list({batch, limit: pageSize})`, then `getNextPage()` while there is one;
//    and `runs.list({batch, status: "FAILED", taskIdentifier: [...]})`;
// 5. `tasks.trigger(single.task, single.payload, single.options)`, `runs.cancel` of that
//    run, then `runs.retrieve` of it;
// 6. `runs.replay` of the batch's run at index `replay`, then `runs.retrieve` of the new
//    run, twice.
//
// What @trigger.dev/core 4.8.3's ApiClient makes of them: retrieveRun, GET
// /api/v3/runs/{id} (RetrieveRunResponse); listRuns, GET /api/v1/runs?filter[...]&
// page[size]&page[after] ({data: ListRunResponseItem[], pagination}); cancelRun, POST
// /api/v2/runs/{id}/cancel (CanceledRunResponse); replayRun, POST /api/v1/runs/{id}/replay
// (ReplayRunResponse). Each answer is parsed by its zod schema: unknown keys are
// stripped, timestamps become Dates, a body the schema refuses is an
// ApiSchemaValidationError (not retried).
//
// `fetch` is wrapped to keep every answer's status and JSON body as it arrived, so the
// test compares what the SDK kept with what the server sent.
//
// Prints one JSON object on stdout: {"sdkVersion": ..., "results": {step: result}} where
// a result is {"ok": true, "data": <what the SDK returned>} or {"ok": false, "error":
// ...}, with "responses": [{method, url, status, body}...], the answers the step's
// requests got, in order. Dates in what the SDK returned are written as
// {"$date": "<toISOString()>"}.
import { batch, runs, tasks } from "@trigger.dev/sdk";
import { CORE_VERSION } from "@trigger.dev/core/v3";
import { configureFromEnv, plain, recordResponses } from "./common.mjs";

configureFromEnv();

const responses = recordResponses();

function failure(error) {
  return {
    name: error?.name,
    message: String(error?.message ?? error),
    status: error?.status,
    rawBody: error?.rawBody,
  };
}

const results = {};
async function step(name, call) {
  const first = responses.length;
  try {
    const data = await call();
    results[name] = { ok: true, data: plain(data), responses: responses.slice(first) };
    return data;
  } catch (error) {
    results[name] = { ok: false, error: failure(error), responses: responses.slice(first) };
    return undefined;
  }
}

function page(found) {
  return { data: found.data, pagination: found.pagination };
}

const plan = JSON.parse(process.argv[2]);

const handle = await step("batch.trigger", () => batch.trigger(plan.items));
let final;
for (let poll = 0; handle && poll < (plan.polls ?? 10); poll++) {
  final = await step(`batch.retrieve ${poll}`, () => batch.retrieve(handle.batchId));
  if (!final || ["COMPLETED", "ABORTED"].includes(final.status)) break;
}
const runIds = final?.runs ?? [];
for (const id of runIds) {
  await step(`runs.retrieve ${id}`, () => runs.retrieve(id));
}

if (handle) {
  let found = await step("runs.list 0", async () =>
    page(await runs.list({ batch: handle.batchId, limit: plan.pageSize })),
  );
  for (let n = 1; found?.pagination.next && n < 10; n++) {
    const next = found.pagination.next;
    found = await step(`runs.list ${n}`, async () =>
      page(await runs.list({ batch: handle.batchId, limit: plan.pageSize, after: next })),
    );
  }
  // The SDK's own cursor: the next page of a listing, through CursorPage.getNextPage().
  await step("runs.list getNextPage", async () => {
    const first = await runs.list({ batch: handle.batchId, limit: plan.pageSize });
    return page(await first.getNextPage());
  });
  await step("runs.list failed", async () =>
    page(
      await runs.list({
        batch: handle.batchId,
        status: "FAILED",
        taskIdentifier: [...new Set(plan.items.map((item) => item.id))],
      }),
    ),
  );
}

if (plan.single) {
  const { task, payload, options } = plan.single;
  const single = await step("tasks.trigger", () => tasks.trigger(task, payload, options));
  if (single) {
    await step("runs.cancel", () => runs.cancel(single.id));
    await step("runs.retrieve cancelled", () => runs.retrieve(single.id));
  }
}

if (plan.replay !== undefined && runIds[plan.replay]) {
  const replayed = await step("runs.replay", () => runs.replay(runIds[plan.replay]));
  if (replayed) {
    await step("runs.retrieve replayed 0", () => runs.retrieve(replayed.id));
    await step("runs.retrieve replayed 1", () => runs.retrieve(replayed.id));
  }
}

process.stdout.write(JSON.stringify({ sdkVersion: CORE_VERSION, results }) + "\n");
