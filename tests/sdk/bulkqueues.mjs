// Queues and bulk actions through the official Trigger.dev SDK, as an application does:
//
//   TRIGGER_API_URL=... TRIGGER_SECRET_KEY=... node bulkqueues.mjs
//
// 1. `tasks.trigger("send-email")` three times and `tasks.trigger("resize-image", {},
//    {queue: "images"})` once;
// 2. queues: `queues.list()`, `queues.list({perPage: 1})` and its next page,
//    `queues.retrieve` by id, by {type: "task"} and {type: "custom"}; `queues.pause`,
//    `runs.retrieve` of a send-email run twice, `queues.resume`, `runs.retrieve` twice
//    more; `queues.overrideConcurrencyLimit(..., 3)`, `queues.resetConcurrencyLimit`;
// 3. bulk actions: `runs.bulk.cancel({filter: {taskIdentifier: "send-email"}})`,
//    `runs.bulk.poll` (retrieve until it is not PENDING), `runs.retrieve` of a cancelled
//    run; `runs.bulk.replay({runIds: [the resize run]})` and `runs.bulk.abort` of it at
//    once; `runs.bulk.list()`.
//
// What @trigger.dev/core 4.8.3's ApiClient makes of them: listQueues, GET
// /api/v1/queues?page&perPage (an OffsetLimitPage of QueueItem); retrieveQueue, GET
// /api/v1/queues/{id or name}?type=...; pauseQueue, POST .../pause {type, action};
// override/reset, POST .../concurrency/override|reset; createBulkAction, POST
// /api/v1/bulk-actions; retrieveBulkAction, GET /api/v1/bulk-actions/{id}; abortBulkAction,
// POST .../abort; listBulkActions, GET /api/v1/bulk-actions (a CursorPage).
//
// Prints one JSON object on stdout: {"sdkVersion": ..., "results": {step: result}} where
// a result is {"ok": true, "data": <what the SDK returned>} or {"ok": false, "error":
// ...}. Dates in what the SDK returned are written as {"$date": "<toISOString()>"}.
import { queues, runs, tasks } from "@trigger.dev/sdk";
import { CORE_VERSION } from "@trigger.dev/core/v3";
import { configureFromEnv, plain, stepper } from "./common.mjs";

configureFromEnv();

const { results, step } = stepper();

function page(found) {
  return { data: found.data, pagination: found.pagination };
}

const emails = [];
for (let n = 0; n < 3; n++) {
  emails.push(await step(`tasks.trigger ${n}`, () => tasks.trigger("send-email", { n })));
}
const resize = await step("tasks.trigger resize", () =>
  tasks.trigger("resize-image", {}, { queue: "images" }),
);

// Queues.
const listed = await step("queues.list", async () => page(await queues.list()));
await step("queues.list pages", async () => {
  const first = await queues.list({ perPage: 1 });
  const second = await first.getNextPage();
  return { first: page(first), second: page(second), more: second.hasNextPage() };
});
const emailQueue = listed?.data.find((queue) => queue.name === "send-email");
if (emailQueue) {
  await step("queues.retrieve id", () => queues.retrieve(emailQueue.id));
}
await step("queues.retrieve task", () => queues.retrieve({ type: "task", name: "send-email" }));
await step("queues.retrieve custom", () => queues.retrieve({ type: "custom", name: "images" }));
await step("queues.pause", () => queues.pause({ type: "task", name: "send-email" }));
for (let n = 0; n < 2; n++) {
  await step(`runs.retrieve paused ${n}`, () => runs.retrieve(emails[0].id));
}
await step("queues.resume", () => queues.resume({ type: "task", name: "send-email" }));
for (let n = 0; n < 2; n++) {
  await step(`runs.retrieve resumed ${n}`, () => runs.retrieve(emails[0].id));
}
await step("queues.overrideConcurrencyLimit", () =>
  queues.overrideConcurrencyLimit({ type: "task", name: "send-email" }, 3),
);
await step("queues.resetConcurrencyLimit", () =>
  queues.resetConcurrencyLimit({ type: "task", name: "send-email" }),
);

// Bulk actions.
const cancel = await step("runs.bulk.cancel", () =>
  runs.bulk.cancel({ filter: { taskIdentifier: "send-email" }, name: "stop emails" }),
);
if (cancel) {
  await step("runs.bulk.poll", () => runs.bulk.poll(cancel.id, { pollIntervalMs: 50 }));
}
await step("runs.retrieve cancelled", () => runs.retrieve(emails[1].id));
const replay = await step("runs.bulk.replay", () => runs.bulk.replay({ runIds: [resize.id] }));
if (replay) {
  await step("runs.bulk.abort", () => runs.bulk.abort(replay.id));
  await step("runs.bulk.retrieve aborted", () => runs.bulk.retrieve(replay.id));
}
await step("runs.bulk.list", async () => page(await runs.bulk.list()));

process.stdout.write(JSON.stringify({ sdkVersion: CORE_VERSION, results }) + "\n");
