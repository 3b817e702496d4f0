// Subscribe to runs in realtime through the official Trigger.dev SDK, as an application
// does:
//
//   TRIGGER_API_URL=... TRIGGER_SECRET_KEY=... node realtime.mjs PLAN_JSON
//
// PLAN_JSON is {"task": ..., "payload": ..., "tag": ..., "items": [...], "missing": ...,
// "timeoutMs": N, "missingWaitMs": N}:
//
// 1. `tasks.trigger(task, payload, {tags: [tag]})`, then `runs.subscribeToRun(id)` with the
//    handle's `publicAccessToken`: every run it yields, until the loop ends by itself (the
//    SDK stops once the run finished);
// 2. `batch.trigger(items)`, then `runs.subscribeToBatch(batchId)` with the batch's
//    `publicAccessToken` until every run of the
//    batch has finished (the SDK never ends a batch subscription by itself: the caller
//    breaks out);
// 3. `runs.subscribeToRunsWithTag(tag)` until the run of step 1 shows as finished;
// 4. `runs.subscribeToRun(missing)`: what the loop does with a run that does not exist,
//    aborted after `missingWaitMs`.
//
// Each step is guarded: after `timeoutMs` its subscription is aborted and the step says
// {"timedOut": true}, so a bug cannot hang the test.
//
// Prints {"sdkVersion": ..., "results": {step: {...}}} with, per step, the runs seen
// ({id, status, isCompleted, finishedAt, tags, payload, output} each), whether the loop
// ended by itself, and any error's message; and "credentials": [{path, auth}...], "jwt" or
// "key" for each realtime request, in order.
import { auth, batch, runs, tasks } from "@trigger.dev/sdk";
import { CORE_VERSION } from "@trigger.dev/core/v3";
import { configureFromEnv } from "./common.mjs";

configureFromEnv();

const plan = JSON.parse(process.argv[2]);

// Which credential each realtime request carried: "jwt" (a public access token) or "key".
const credentials = [];
const originalFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const url = new URL(typeof input === "string" ? input : input.url);
  if (url.pathname.startsWith("/realtime/")) {
    const headers = new Headers(init?.headers ?? (typeof input === "string" ? {} : input.headers));
    const bearer = (headers.get("authorization") ?? "").replace(/^Bearer /, "");
    credentials.push({ path: url.pathname, auth: bearer.startsWith("tr_") ? "key" : "jwt" });
  }
  return originalFetch(input, init);
};

function seen(run) {
  return {
    id: run.id,
    taskIdentifier: run.taskIdentifier,
    status: run.status,
    isCompleted: run.isCompleted,
    finishedAt: run.finishedAt ? run.finishedAt.toISOString() : null,
    tags: run.tags,
    payload: run.payload ?? null,
    output: run.output ?? null,
  };
}

async function guarded(subscribe, until, waitMs = plan.timeoutMs) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), waitMs);
  const out = { runs: [], ended: false, broke: false, timedOut: false, error: null };
  try {
    const subscription = subscribe(controller.signal);
    for await (const run of subscription) {
      out.runs.push(seen(run));
      if (until && until(out.runs)) {
        out.broke = true;
        break;
      }
    }
    out.ended = !out.broke && !controller.signal.aborted;
  } catch (error) {
    out.error = String(error?.message ?? error);
  } finally {
    out.timedOut = controller.signal.aborted;
    clearTimeout(timer);
  }
  return out;
}

const results = {};
const handle = await tasks.trigger(plan.task, plan.payload, { tags: [plan.tag] });
// As a frontend does: with the public access token the trigger answered with.
results.run = {
  id: handle.id,
  ...(await auth.withAuth({ accessToken: handle.publicAccessToken }, () =>
    guarded((signal) => runs.subscribeToRun(handle.id, { signal }))
  )),
};

const made = await batch.trigger(plan.items);
const finished = (seenRuns) => {
  const last = new Map(seenRuns.map((run) => [run.id, run]));
  return last.size === plan.items.length && [...last.values()].every((run) => run.isCompleted);
};
results.batch = {
  id: made.batchId,
  ...(await auth.withAuth({ accessToken: made.publicAccessToken }, () =>
    guarded((signal) => runs.subscribeToBatch(made.batchId, { signal }), finished)
  )),
};

results.tagged = await guarded(
  (signal) => runs.subscribeToRunsWithTag(plan.tag, undefined, { signal }),
  (seenRuns) => seenRuns.some((run) => run.id === handle.id && run.isCompleted)
);

results.missing = await guarded(
  (signal) => runs.subscribeToRun(plan.missing, { signal }),
  undefined,
  plan.missingWaitMs
);

console.log(JSON.stringify({ sdkVersion: CORE_VERSION, results, credentials }));
process.exit(0);
