// Waitpoint tokens through the official Trigger.dev SDK, as a service asking a person
// for approval does:
//
//   TRIGGER_API_URL=... TRIGGER_SECRET_KEY=... node waitpoints.mjs TIMED_OUT_ID
//
// 1. `wait.createToken` with an idempotency key, a TTL, a timeout and tags (A), again with
//    the same key (cached: A again), and twice without options (B, C);
// 2. `wait.listTokens` filtered by status and tag, and every token one page at a time
//    (`limit: 1`: the SDK follows the cursors);
// 3. `wait.retrieveToken(A)`, `wait.completeToken(A, data)`, `wait.retrieveToken(A)`;
// 4. a POST of JSON to B's callback URL (no key), then `wait.retrieveToken(B)`;
// 5. `wait.completeToken(C, data)` with C's own public access token (`auth.withAuth`);
// 6. `wait.retrieveToken(TIMED_OUT_ID)`, a token the test made time out.
//
// Prints one JSON object on stdout: {"sdkVersion": ..., "results": {step: result}}, where
// a result is {"ok": true, "data": <what the SDK returned>} or {"ok": false, "error":
// ...}. Dates are written as {"$date": "<toISOString()>"}, an Error as {"$error": name,
// "message": ...}.
import { auth, wait } from "@trigger.dev/sdk";
import { CORE_VERSION } from "@trigger.dev/core/v3";
import { configureFromEnv, plain, stepper } from "./common.mjs";

configureFromEnv();

const { results, step } = stepper();

async function all(listing) {
  const found = [];
  for await (const token of listing) found.push(token);
  return found;
}

const [timedOutId] = process.argv.slice(2);
const options = {
  idempotencyKey: "approve-order-7",
  idempotencyKeyTTL: "1h",
  timeout: "1h",
  tags: ["order:7", "user:42"],
};
const a = await step("createToken A", () => wait.createToken(options));
await step("createToken A again", () => wait.createToken(options));
const b = await step("createToken B", () => wait.createToken());
const c = await step("createToken C", () => wait.createToken());

await step("listTokens waiting order:7", () =>
  all(wait.listTokens({ status: "WAITING", tags: ["order:7"] })),
);
await step("listTokens one by one", () => all(wait.listTokens({ limit: 1 })));

if (a) {
  await step("retrieveToken A", () => wait.retrieveToken(a.id));
  await step("completeToken A", () => wait.completeToken(a, { status: "approved", by: "ana" }));
  await step("retrieveToken A completed", () => wait.retrieveToken(a));
}
if (b) {
  await step("callback B", async () => {
    const response = await fetch(b.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ approved: false }),
    });
    return { status: response.status, body: await response.json() };
  });
  await step("retrieveToken B completed", () => wait.retrieveToken(b.id));
}
if (c) {
  await step("completeToken C with its public token", () =>
    auth.withAuth({ accessToken: c.publicAccessToken }, () =>
      wait.completeToken(c.id, "ok"),
    ),
  );
  await step("retrieveToken C completed", () => wait.retrieveToken(c.id));
}
if (timedOutId) {
  await step("retrieveToken timed out", () => wait.retrieveToken(timedOutId));
}

process.stdout.write(JSON.stringify({ sdkVersion: CORE_VERSION, results }) + "\n");
