// Results and large payloads through the official Trigger.dev SDK, as an application does:
//
//   TRIGGER_API_URL=... TRIGGER_SECRET_KEY=... node results.mjs PLAN_JSON
//
// PLAN_JSON is {"items": [...], "cancel": I, "polls": N, "big": {"task", "size"}}:
//
// 1. `batch.trigger(items)`, then `batch.retrieve` until the batch is COMPLETED (at most
//    `polls` times), with `runs.cancel` of the run at index `cancel` once runs show;
// 2. `ApiClient.getRunResult(id)` for every run of the batch, then
//    `ApiClient.getBatchResults(batchId)`;
// 3. `tasks.trigger(big.task, {blob: "x" * big.size})`: the SDK uploads a payload this
//    large itself (`createUploadPayloadUrl`, then a PUT to the presigned URL) and
//    triggers with the `application/store` reference;
// 4. `runs.retrieve` of that run until it is COMPLETED (at most `polls` times): the SDK
//    downloads `payloadPresignedUrl` and `outputPresignedUrl` into `payload` and `output`.
//
// Prints {"sdkVersion", "results": {step: {"ok", "data" | "error", "responses"}}};
// a response is {method, url, status, contentType, body} (JSON bodies parsed, others as
// {"$text"} cut to 200 characters). For a large payload or output the step keeps its
// length and first characters instead of the value.
import { apiClientManager } from "@trigger.dev/core/v3";
import { CORE_VERSION } from "@trigger.dev/core/v3";
import { batch, runs, tasks } from "@trigger.dev/sdk";
import { configureFromEnv, plain, recordResponses } from "./common.mjs";

configureFromEnv();

const responses = recordResponses({
  textLimit: 200,
  more: (entry, { init, response, text }) => ({
    ...entry,
    contentType: response.headers.get("content-type"),
    sent: typeof init?.body === "string" ? init.body.length : null,
    body: text.length > 4096 ? { $length: text.length } : entry.body,
  }),
});

function failure(error) {
  return { name: error?.name, message: String(error?.message ?? error), status: error?.status };
}

const results = {};
async function step(name, call, keep = plain) {
  const first = responses.length;
  try {
    const data = await call();
    results[name] = { ok: true, data: keep(data), responses: responses.slice(first) };
    return data;
  } catch (error) {
    results[name] = { ok: false, error: failure(error), responses: responses.slice(first) };
    return undefined;
  }
}

const plan = JSON.parse(process.argv[2]);
const client = apiClientManager.clientOrThrow();

const handle = await step("batch.trigger", () => batch.trigger(plan.items));
let final;
let runIds = [];
for (let poll = 0; handle && poll < plan.polls; poll++) {
  final = await step(`batch.retrieve ${poll}`, () => batch.retrieve(handle.batchId));
  if (!final || final.status === "COMPLETED") break;
  if (runIds.length === 0 && final.runs.length > 0) {
    runIds = final.runs;
    await step("runs.cancel", () => runs.cancel(runIds[plan.cancel]));
  }
}
for (const id of runIds) {
  await step(`getRunResult ${id}`, async () => (await client.getRunResult(id)) ?? null);
}
await step("getBatchResults", () => client.getBatchResults(handle.batchId));

// What a large value is kept as: its length and first characters.
function big(run) {
  const summary = (value) =>
    value === undefined ? null : { blobLength: value.blob?.length, head: value.blob?.slice(0, 8) };
  return {
    id: run.id,
    status: run.status,
    payload: summary(run.payload),
    output: summary(run.output),
    payloadPresignedUrl: run.payloadPresignedUrl ?? null,
    outputPresignedUrl: run.outputPresignedUrl ?? null,
  };
}

const blob = "x".repeat(plan.big.size);
const single = await step("tasks.trigger big", () => tasks.trigger(plan.big.task, { blob }));
for (let poll = 0; single && poll < plan.polls; poll++) {
  const run = await step(`runs.retrieve big ${poll}`, () => runs.retrieve(single.id), big);
  if (!run || run.status === "COMPLETED") break;
}

process.stdout.write(JSON.stringify({ sdkVersion: CORE_VERSION, results }) + "\n");
