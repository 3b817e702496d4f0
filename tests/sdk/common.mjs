// What every SDK script shares: the SDK configured from the environment the test sets
// (TRIGGER_API_URL, TRIGGER_SECRET_KEY), answers made JSON, and steps that keep either
// what the SDK returned or the error it threw.
import { configure } from "@trigger.dev/sdk";

export function configureFromEnv() {
  configure({
    baseURL: process.env.TRIGGER_API_URL,
    secretKey: process.env.TRIGGER_SECRET_KEY,
  });
}

// What the SDK returned, as JSON: a Date is written {"$date": "<toISOString()>"}, an
// Error {"$error": name, "message": ...}.
export function plain(value) {
  if (value instanceof Date) return { $date: value.toISOString() };
  if (value instanceof Error) return { $error: value.name, message: value.message };
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

// `results[name]` is {"ok": true, "data": ...} or {"ok": false, "error": {name, message,
// status}}; `step` returns what the call returned, or undefined when it threw.
export function stepper() {
  const results = {};
  async function step(name, call) {
    try {
      const data = await call();
      results[name] = { ok: true, data: plain(data) };
      return data;
    } catch (error) {
      results[name] = {
        ok: false,
        error: { name: error?.name, message: String(error?.message ?? error), status: error?.status },
      };
      return undefined;
    }
  }
  return { results, step };
}

// Wraps `fetch` to keep every answer, in order, in the array returned: {method, url,
// status, body}, a JSON body parsed and another as {"$text"} (cut to `textLimit`
// characters); `more(entry, {init, response, text})` may reshape the entry.
export function recordResponses({ textLimit = Infinity, more = (entry) => entry } = {}) {
  const responses = [];
  const originalFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const response = await originalFetch(input, init);
    const text = await response.clone().text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = { $text: text.slice(0, textLimit) };
    }
    const url = typeof input === "string" ? input : input.url;
    const entry = { method: init?.method ?? "GET", url, status: response.status, body };
    responses.push(more(entry, { init, response, text }));
    return response;
  };
  return responses;
}
