// Mint public access tokens through the official Trigger.dev SDK, then use them:
//
//   TRIGGER_API_URL=... TRIGGER_SECRET_KEY=... node tokens.mjs ADDITIONAL_KEY
//
// What @trigger.dev/sdk 4.8.3 does (auth.js, and @trigger.dev/core's ApiClient):
// - with an environment's root key, auth.createPublicToken, createTriggerPublicToken and
//   createBatchTriggerPublicToken ask POST /api/v1/auth/jwt/claims for {sub, pub} and sign
//   the token themselves (HS256, the key); the two trigger kinds add `otu: true` unless
//   `multipleUse`;
// - with an additional key (`tr_<env>_sk_`), which cannot sign, they ask
//   POST /api/v1/auth/public-tokens {scopes, expirationTime, oneTimeUse, realtime}.
//
// The script triggers a run and a batch with the secret key, then runs each step with a
// token (auth.withAuth) and records what happened. Prints one JSON object:
// {"sdkVersion": ..., "ids": {...}, "tokens": {name: token}, "steps": [[name, outcome]...]},
// an outcome being {"ok": true, "value": ...} or {"ok": false, "status": ..., "message": ...}.
import { auth, batch, configure, runs, tasks } from "@trigger.dev/sdk";
import { CORE_VERSION } from "@trigger.dev/core/v3";

const secretKey = process.env.TRIGGER_SECRET_KEY;
const additionalKey = process.argv[2];
configure({ baseURL: process.env.TRIGGER_API_URL, secretKey });

const steps = [];
async function step(name, token, call) {
  try {
    const value = await auth.withAuth({ accessToken: token }, call);
    steps.push([name, { ok: true, value }]);
  } catch (error) {
    steps.push([name, { ok: false, status: error?.status, message: String(error?.message) }]);
  }
}

// Made with the secret key: a run, another run, and a batch of two.
const run = await tasks.trigger("send-email", { to: "ada@example.com" });
const other = await tasks.trigger("send-email", { to: "bob@example.com" });
const made = await tasks.batchTrigger("send-email", [{ payload: { n: 1 } }, { payload: { n: 2 } }]);
const ids = { run: run.id, other: other.id, batch: made.batchId };

const minted = {
  readRun: await auth.createPublicToken({
    scopes: { read: { runs: [run.id] } },
    expirationTime: "1h",
  }),
  readBatch: await auth.createPublicToken({ scopes: { read: { batch: made.batchId } } }),
  trigger: await auth.createTriggerPublicToken("send-email"),
  triggerMany: await auth.createTriggerPublicToken("send-email", { multipleUse: true }),
  batchTrigger: await auth.createBatchTriggerPublicToken("send-email"),
  expired: await auth.createPublicToken({
    scopes: { read: { runs: true } },
    expirationTime: Math.floor(Date.now() / 1000) - 60,
  }),
};
const status = (value) => ({ id: value.id, status: value.status });

await step("readRun: its run", minted.readRun, async () => status(await runs.retrieve(run.id)));
await step("readRun: another run", minted.readRun, async () => status(await runs.retrieve(other.id)));
await step("readRun: the batch", minted.readRun, async () => status(await batch.retrieve(made.batchId)));
await step("readBatch: the batch", minted.readBatch, async () =>
  status(await batch.retrieve(made.batchId)),
);
await step("readBatch: a run outside it", minted.readBatch, async () =>
  status(await runs.retrieve(run.id)),
);
await step("trigger: once", minted.trigger, async () =>
  (await tasks.trigger("send-email", { n: 1 })).id,
);
await step("trigger: twice", minted.trigger, async () =>
  (await tasks.trigger("send-email", { n: 2 })).id,
);
await step("trigger: another task", minted.trigger, async () =>
  (await tasks.trigger("other-task", { n: 3 })).id,
);
for (const n of [1, 2]) {
  await step(`triggerMany: ${n}`, minted.triggerMany, async () =>
    (await tasks.trigger("send-email", { n })).id,
  );
}
for (const n of [1, 2]) {
  await step(`batchTrigger: ${n}`, minted.batchTrigger, async () => {
    const handle = await tasks.batchTrigger("send-email", [{ payload: { n } }]);
    return { batchId: handle.batchId, runCount: handle.runCount };
  });
}
await step("expired: runs.list", minted.expired, async () => (await runs.list()).data.length);

// An additional key cannot sign: the SDK has the server mint its tokens.
configure({ baseURL: process.env.TRIGGER_API_URL, secretKey: additionalKey });
minted.serverRead = await auth.createPublicToken({
  scopes: { read: { runs: [other.id] } },
  expirationTime: "10m",
});
minted.serverTrigger = await auth.createTriggerPublicToken("send-email");
await step("serverRead: its run", minted.serverRead, async () =>
  status(await runs.retrieve(other.id)),
);
await step("serverRead: another run", minted.serverRead, async () =>
  status(await runs.retrieve(run.id)),
);
await step("serverTrigger: once", minted.serverTrigger, async () =>
  (await tasks.trigger("send-email", { n: 4 })).id,
);

process.stdout.write(
  JSON.stringify({ sdkVersion: CORE_VERSION, ids, tokens: minted, steps }) + "\n",
);
