// Trigger tasks through the official Trigger.dev SDK, as an application does:
//
//   TRIGGER_API_URL=... TRIGGER_SECRET_KEY=... node trigger_tasks.mjs PLAN_JSON
//
// PLAN_JSON is {"steps": [step...], "polls": N}; the steps run one after the other:
//
//   {"call": "tasks.batchTrigger", "task": "<task>", "items": [{"payload": ...}...]}
//   {"call": "batch.trigger", "items": [{"id": "<task>", "payload": ...}...]}
//   {"call": "tasks.trigger", "task": "<task>", "payload": ...}
//
// each with an optional "options" (the call's options argument). An item without
// "payload" is sent without one; {"$date": "<ISO>"} anywhere in an item or a payload
// becomes a Date.
//
// What @trigger.dev/sdk 4.8.3 makes of them (its ApiClient is @trigger.dev/core's):
// - both batch calls are the two-phase streaming batch of SDK 4.3.1 and later:
//   createBatch, POST /api/v3/batches {runCount, taskIdentifiers}, then
//   streamBatchItems, POST /api/v3/batches/{id}/items, one NDJSON line an item
//   {index, task, payload, options}, sent as a chunked stream;
// - tasks.trigger is triggerTask, POST /api/v1/tasks/{task}/trigger {payload, options};
// - a payload is sent as text: superjson (`{"json": ...}`, with "meta" for Dates and the
//   like) and options.payloadType "application/super+json", a string as itself with
//   "text/plain", none at all with "application/json".
// After each batch call the script retrieves the batch (`batch.retrieve`, GET
// /api/v2/batches/{id}) until it is COMPLETED or ABORTED, at most `polls` times, without
// waiting in between.
//
// Prints one JSON object on stdout: {"sdkVersion": ..., "results": [result...]}, one
// result a step: {"ok": true, "handle": <what the call returned>, "polls": [<what each
// batch.retrieve returned>...]} or {"ok": false, "error": ...}. Dates in what the SDK
// returned are written as {"$date": "<toISOString()>"}.
import { batch, tasks } from "@trigger.dev/sdk";
import { CORE_VERSION } from "@trigger.dev/core/v3";
import { configureFromEnv, plain } from "./common.mjs";

configureFromEnv();

const FINAL = new Set(["COMPLETED", "ABORTED"]);

function revive(value) {
  if (Array.isArray(value)) return value.map(revive);
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === "$date") return new Date(value.$date);
    return Object.fromEntries(keys.map((k) => [k, revive(value[k])]));
  }
  return value;
}

async function settle(batchId, polls) {
  const seen = [];
  for (let poll = 0; poll < polls; poll++) {
    const retrieved = await batch.retrieve(batchId);
    seen.push(plain(retrieved));
    if (FINAL.has(retrieved.status)) break;
  }
  return seen;
}

async function run(step, polls) {
  const items = revive(step.items ?? []);
  const options = step.options;
  switch (step.call) {
    case "tasks.batchTrigger": {
      const handle = await tasks.batchTrigger(step.task, items, options);
      return { handle: plain(handle), polls: await settle(handle.batchId, polls) };
    }
    case "batch.trigger": {
      const handle = await batch.trigger(items, options);
      return { handle: plain(handle), polls: await settle(handle.batchId, polls) };
    }
    case "tasks.trigger":
      return { handle: plain(await tasks.trigger(step.task, revive(step.payload), options)) };
    default:
      throw new Error(`unknown call ${step.call}`);
  }
}

const plan = JSON.parse(process.argv[2]);
const results = [];
for (const step of plan.steps) {
  try {
    results.push({ ok: true, ...(await run(step, plan.polls ?? 10)) });
  } catch (error) {
    results.push({
      ok: false,
      error: {
        name: error?.name,
        message: String(error?.message ?? error),
        status: error?.status ?? error?.cause?.status,
        phase: error?.phase,
      },
    });
  }
}
process.stdout.write(JSON.stringify({ sdkVersion: CORE_VERSION, results }) + "\n");
