// Change runs after they were triggered through the official Trigger.dev SDK, as a
// service does:
//
//   TRIGGER_API_URL=... TRIGGER_SECRET_KEY=... node runops.mjs PLAN_JSON
//
// PLAN_JSON is {"task": "<id>", "key": "<user key>", "payload": ..., "tags": [...],
// "metadata": {...}, "operations": [...]}:
//
// 1. `idempotencyKeys.create(key, {scope: "global"})`, then `tasks.trigger` twice with it
//    (a delay of 1h and the plan's metadata): the same run;
// 2. `idempotencyKeys.reset(task, key)`, then `tasks.trigger` again: a new run; and a reset
//    of a key no run holds;
// 3. `runs.reschedule(first, {delay: "3h"})`, then `runs.retrieve(first)`; and a reschedule
//    of the new run, which is not delayed;
// 4. `ApiClient.addTags(first, {tags})` twice, then `runs.list({tag})`;
// 5. `ApiClient.updateRunMetadata(first, {operations})` and `ApiClient.getRunMetadata(first)`;
// 6. `runs.retrieve(first)` at the end.
//
// Prints {"sdkVersion": ..., "results": {step: result}}, a result being {"ok": true,
// "data": ...} or {"ok": false, "error": {name, message, status}}; Dates as
// {"$date": "<toISOString()>"}.
import { idempotencyKeys, runs, tasks } from "@trigger.dev/sdk";
import { apiClientManager, CORE_VERSION } from "@trigger.dev/core/v3";
import { configureFromEnv, plain, stepper } from "./common.mjs";

configureFromEnv();

const { results, step } = stepper();

const plan = JSON.parse(process.argv[2]);
const { task } = plan;
const key = await idempotencyKeys.create(plan.key, { scope: "global" });
const options = { idempotencyKey: key, delay: "1h", metadata: plan.metadata };

const first = await step("tasks.trigger", () => tasks.trigger(task, plan.payload, options));
await step("tasks.trigger again", () => tasks.trigger(task, plan.payload, options));
await step("idempotencyKeys.reset", () => idempotencyKeys.reset(task, key));
await step("tasks.trigger after reset", () =>
  tasks.trigger(task, plan.payload, { idempotencyKey: key }),
);
await step("idempotencyKeys.reset unknown", () => idempotencyKeys.reset(task, "f".repeat(64)));

const client = apiClientManager.clientOrThrow();
if (first) {
  await step("runs.reschedule", () => runs.reschedule(first.id, { delay: "3h" }));
  await step("runs.retrieve rescheduled", () => runs.retrieve(first.id));
  const fresh = results["tasks.trigger after reset"].data;
  if (fresh) {
    await step("runs.reschedule not delayed", () => runs.reschedule(fresh.id, { delay: "1h" }));
  }
  await step("addTags", () => client.addTags(first.id, { tags: plan.tags }));
  await step("addTags again", () => client.addTags(first.id, { tags: plan.tags }));
  await step("runs.list tag", async () => {
    const page = await runs.list({ tag: plan.tags[0] });
    return page.data.map((run) => run.id);
  });
  await step("updateRunMetadata", () =>
    client.updateRunMetadata(first.id, { operations: plan.operations }),
  );
  await step("getRunMetadata", () => client.getRunMetadata(first.id));
  await step("runs.retrieve at the end", () => runs.retrieve(first.id));
}

process.stdout.write(JSON.stringify({ sdkVersion: CORE_VERSION, results }) + "\n");
