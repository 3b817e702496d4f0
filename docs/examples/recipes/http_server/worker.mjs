// A worker that reads a batch with the official SDK (@trigger.dev/sdk), configured
// from the environment as in production: TRIGGER_API_URL and TRIGGER_SECRET_KEY.
import { batch, configure } from "@trigger.dev/sdk";

configure({
  baseURL: process.env.TRIGGER_API_URL,
  secretKey: process.env.TRIGGER_SECRET_KEY,
});

const found = await batch.retrieve(process.argv[2]);
const failed = found.processing.errors.map((entry) => entry.index);
console.log(JSON.stringify({ status: found.status, runs: found.runs.length, failed }));
