// Retrieve batches through the official Trigger.dev SDK, as an application does:
//
//   TRIGGER_API_URL=... TRIGGER_SECRET_KEY=... node retrieve_batches.mjs BATCH_ID...
//
// `configure()` then `batch.retrieve(id)` from @trigger.dev/sdk (pinned in package.json),
// which calls @trigger.dev/core's ApiClient.retrieveBatch: GET /api/v2/batches/{id},
// parsed by the RetrieveBatchV2Response zod schema. The SDK's own retry options are
// kept, so only ids the server knows should be asked for (an unknown one is retried
// with backoff when the 404 says x-should-retry: true).
//
// Prints one JSON object on stdout: {"sdkVersion": ..., "results": {id: result}} where a
// result is {"ok": true, "data": <what the SDK returned>} or {"ok": false, "error": ...}.
// Dates in what the SDK returned are written as {"$date": "<toISOString()>"} so that
// the test can tell a parsed Date from a string.
import { batch } from "@trigger.dev/sdk";
import { CORE_VERSION } from "@trigger.dev/core/v3";
import { configureFromEnv, plain } from "./common.mjs";

configureFromEnv();

async function retrieve(id) {
  try {
    return { ok: true, data: plain(await batch.retrieve(id)) };
  } catch (error) {
    return {
      ok: false,
      error: { name: error?.name, message: String(error?.message ?? error), status: error?.status },
    };
  }
}

const ids = process.argv.slice(2);
const results = await Promise.all(ids.map(retrieve));
process.stdout.write(
  JSON.stringify({ sdkVersion: CORE_VERSION, results: Object.fromEntries(ids.map((id, i) => [id, results[i]])) }) +
    "\n",
);
