// Every function of the official SDK 4.8.3 that an application calls from outside a
// task, once each, against the mock's server, in the order a batch backend would:
//
//   TRIGGER_API_URL=... TRIGGER_SECRET_KEY=... node every_function.mjs
//
// tasks and batches triggered and retrieved; runs retrieved, listed, polled, replayed,
// rescheduled, cancelled and subscribed to; bulk actions; an idempotency key's reset;
// public tokens minted and used; waitpoint tokens; queues; tags, metadata, results and
// a payload large enough for the SDK to upload it. Each step has 8 s: a function the
// mock does not answer fails its step instead of hanging the script.
//
// Prints one JSON object: {"sdkVersion": ..., "results": {step: result}} (common.mjs).
import { auth, batch, idempotencyKeys, queues, runs, tasks, wait } from "@trigger.dev/sdk";
import { apiClientManager, CORE_VERSION } from "@trigger.dev/core/v3";
import { configureFromEnv, stepper } from "./common.mjs";

configureFromEnv();
const { results, step: kept } = stepper();
const api = () => apiClientManager.clientOrThrow();
const task = "every-function";
const queue = { type: "task", name: task };

function step(name, call) {
  const timeout = new Promise((_, reject) =>
    setTimeout(() => reject(new Error(`no answer in 8 s`)), 8000).unref(),
  );
  return kept(name, () => Promise.race([call(), timeout]));
}

async function drain(stream, done) {
  const seen = new Map();
  for await (const run of stream) {
    seen.set(run.id, run.status);
    if (done(seen)) break;
  }
  return Object.fromEntries(seen);
}

const key = await idempotencyKeys.create("every-function");
const one = await step("tasks.trigger", () =>
  tasks.trigger(task, { n: 1 }, { idempotencyKey: key, tags: ["every"] }),
);
await step("tasks.batchTrigger", () => tasks.batchTrigger(task, [{ payload: { n: 2 } }]));
const made = await step("batch.trigger", () => batch.trigger([{ id: task, payload: { n: 3 } }]));
await step("batch.triggerByTask", () => batch.triggerByTask([{ task: { id: task }, payload: {} }]));
await step("batch.retrieve", () => batch.retrieve(made.batchId));
await step("runs.retrieve", () => runs.retrieve(one.id));
await step("runs.list", async () => (await runs.list({ limit: 5 })).data.length);
await step("runs.poll", () => runs.poll(one.id, { pollIntervalMs: 50 }));
await step("runs.replay", () => runs.replay(one.id));
const later = await tasks.trigger(task, {}, { delay: "1h" });
await step("runs.reschedule", () => runs.reschedule(later.id, { delay: "2h" }));
await step("runs.cancel", () => runs.cancel(later.id));
await step("runs.subscribeToRun", async () => {
  const run = await tasks.trigger(task, {});
  return drain(runs.subscribeToRun(run.id), () => false); // ends by itself
});
await step("runs.subscribeToBatch", async () => {
  const { batchId } = await batch.trigger([{ id: task, payload: {} }, { id: task, payload: {} }]);
  const final = (seen) => seen.size === 2 && [...seen.values()].every((s) => s === "COMPLETED");
  return drain(runs.subscribeToBatch(batchId), final); // the SDK leaves it open
});
await step("runs.subscribeToRunsWithTag", () =>
  drain(runs.subscribeToRunsWithTag("every"), (seen) => seen.size > 0),
);
const aborted = await step("runs.bulk.cancel", () => runs.bulk.cancel({ runIds: [one.id] }));
await step("runs.bulk.abort", () => runs.bulk.abort(aborted.id));
const bulk = await step("runs.bulk.replay", () => runs.bulk.replay({ runIds: [one.id] }));
await step("runs.bulk.list", async () => (await runs.bulk.list()).data.length);
await step("runs.bulk.retrieve", () => runs.bulk.retrieve(bulk.id));
await step("runs.bulk.poll", () => runs.bulk.poll(bulk.id, { pollIntervalMs: 50 }));
await step("idempotencyKeys.reset", () => idempotencyKeys.reset(task, key));
const read = await step("auth.createPublicToken", () =>
  auth.createPublicToken({ scopes: { read: { runs: [one.id] } } }),
);
await step("auth.withAuth (a read token)", () =>
  auth.withAuth({ accessToken: read }, () => runs.retrieve(one.id)),
);
const trigger = await step("auth.createTriggerPublicToken", () =>
  auth.createTriggerPublicToken(task),
);
await step("auth.withAuth (a trigger token)", () =>
  auth.withAuth({ accessToken: trigger }, () => tasks.trigger(task, {})),
);
await step("auth.createBatchTriggerPublicToken", () => auth.createBatchTriggerPublicToken(task));
await step("ApiClient.createPublicToken", () => api().createPublicToken({ scopes: ["read:runs"] }));
const token = await step("wait.createToken", () => wait.createToken({ timeout: "1h" }));
await step("wait.listTokens", async () => (await wait.listTokens()).data.length);
await step("wait.retrieveToken", () => wait.retrieveToken(token.id));
await step("wait.completeToken", () => wait.completeToken(token.id, { approved: true }));
await step("queues.list", () => queues.list());
await step("queues.retrieve", () => queues.retrieve(queue));
await step("queues.pause", () => queues.pause(queue));
await step("queues.resume", () => queues.resume(queue));
await step("queues.overrideConcurrencyLimit", () => queues.overrideConcurrencyLimit(queue, 3));
await step("queues.resetConcurrencyLimit", () => queues.resetConcurrencyLimit(queue));
await step("ApiClient.addTags", () => api().addTags(one.id, { tags: ["more"] }));
await step("ApiClient.updateRunMetadata", () =>
  api().updateRunMetadata(one.id, { metadata: { a: 1 } }),
);
await step("ApiClient.getRunMetadata", () => api().getRunMetadata(one.id));
await step("ApiClient.getRunResult", () => api().getRunResult(one.id));
await step("ApiClient.getBatchResults", () => api().getBatchResults(made.batchId));
await step("ApiClient.createUploadPayloadUrl", () => api().createUploadPayloadUrl("every/a.json"));
await step("tasks.trigger (a payload the SDK uploads)", async () => {
  const run = await tasks.trigger(task, { big: "x".repeat(600_000) });
  return (await runs.retrieve(run.id)).payload.big.length;
});

console.log(JSON.stringify({ sdkVersion: CORE_VERSION, results }));
process.exit(0); // the batch subscription's stream is left open by the SDK
