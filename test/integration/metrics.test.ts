import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type DurableClient } from "../../clients/index.js";
import { TokenPolicy, type TokensFile } from "../../src/security/index.js";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";

/** One sample line of the Prometheus text format. */
interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of a scrape (comment lines left out); label values unescaped. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[name!] = value!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample with this name and (at least) these labels; undefined when there is none. */
function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

async function scrape(url: string, token?: string): Promise<{ status: number; contentType: string | null; text: string }> {
  const response = await fetch(`${url}/metrics`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, contentType: response.headers.get("content-type"), text: await response.text() };
}

const WAIT = { timeoutMs: 10_000 };

describe.each(TRANSPORTS)("GET /metrics after a known workload (%s)", (transport) => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let client: DurableClient;
  const instanceIds: string[] = [];
  let samples: Sample[];
  let contentType: string | null;

  beforeAll(async () => {
    server = await startTestServer(transport);
    client = await connect(server.url);
    const subscription = client.subscribe("Counter/watched", () => {});
    await subscription.ready; // its first snapshot is a read of the state
    for (let i = 0; i < 7; i++) await client.signal("Counter/a", "add", 1);
    for (let i = 0; i < 3; i++) await client.call("Counter/a", "get");
    await expect(client.call("Counter/a", "add", "not a number")).rejects.toMatchObject({ code: "operation_failed" });
    await expect(client.call("Counter/a", "no-such-operation")).rejects.toMatchObject({ code: "unknown_operation" });
    expect(await client.get("Counter/a")).toBe(7);
    await client.signal("Counter/later", "add", 1, { at: Date.now() + 3_600_000 }); // a durable timer, not run yet
    const hello = await client.start("HelloSequence");
    const retry = await client.start("RetryDemo", { failTimes: 1, maxAttempts: 1 });
    const actor = await client.start("CounterActor", 0); // continues as new once per event
    const waiting = await client.start("ApprovalWorkflow", null); // waits for an approval: terminated
    instanceIds.push(hello, retry, actor, waiting);
    for (const operation of ["incr", "incr", "end"]) await client.raiseEvent(actor, "operation", operation);
    await client.terminate(waiting, "not needed");
    expect(await client.waitForCompletion(hello, WAIT)).toMatchObject({ runtimeStatus: "Completed" });
    expect(await client.waitForCompletion(retry, WAIT)).toMatchObject({ runtimeStatus: "Failed" });
    expect(await client.waitForCompletion(actor, WAIT)).toMatchObject({ runtimeStatus: "Completed", output: 2 });
    expect(await client.waitForCompletion(waiting, WAIT)).toMatchObject({ runtimeStatus: "Terminated" });
    const scraped = await scrape(server.url);
    expect(scraped.status).toBe(200);
    contentType = scraped.contentType;
    samples = parseMetrics(scraped.text);
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  it("serves Prometheus' text format", () => {
    expect(contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
  });

  it("counts operations by entity type, operation and outcome", () => {
    const operations = (operation: string, outcome: string) => valueOf(samples, "durable_entities_operations_total", { entity_type: "Counter", operation, outcome });
    expect(operations("add", "ok")).toBe(7);
    expect(operations("add", "error")).toBe(1);
    expect(operations("get", "ok")).toBe(3);
    expect(operations("(unknown)", "rejected")).toBe(1);
    expect(operations("(read)", "ok")).toBe(2); // the subscription's snapshot and the get
    expect(samples.filter((sample) => sample.name === "durable_entities_operations_total").reduce((sum, sample) => sum + sample.value, 0)).toBe(14); // the scheduled signal has not run
  });

  it("times each operation that ran, and each commit, flush and batch", () => {
    expect(valueOf(samples, "durable_entities_operation_duration_seconds_count", { entity_type: "Counter" })).toBe(11);
    expect(valueOf(samples, "durable_entities_operation_duration_seconds_bucket", { entity_type: "Counter", le: "+Inf" })).toBe(11);
    expect(valueOf(samples, "durable_entities_operation_duration_seconds_sum", { entity_type: "Counter" })).toBeGreaterThan(0);
    for (const name of ["durable_entities_commit_duration_seconds", "durable_entities_flush_duration_seconds", "durable_entities_batch_operations"]) {
      expect(valueOf(samples, `${name}_count`), name).toBeGreaterThan(0);
      expect(valueOf(samples, `${name}_sum`), name).toBeGreaterThan(0);
    }
    // The 7 adds and the orchestrations' turns (HelloSequence: its start and 3 results; RetryDemo: its start and 1 result)
    // wrote, so each is in a committed batch; a tick of reads alone writes nothing and commits nothing.
    expect(valueOf(samples, "durable_entities_batch_operations_sum")).toBeGreaterThanOrEqual(7 + 4 + 2);
  });

  it("counts orchestrations started and finished, and activities' runs and failures", () => {
    expect(valueOf(samples, "durable_entities_orchestrations_started_total", { name: "HelloSequence" })).toBe(1);
    expect(valueOf(samples, "durable_entities_orchestrations_started_total", { name: "RetryDemo" })).toBe(1);
    expect(valueOf(samples, "durable_entities_orchestrations_finished_total", { name: "HelloSequence", status: "Completed" })).toBe(1);
    expect(valueOf(samples, "durable_entities_orchestrations_finished_total", { name: "RetryDemo", status: "Failed" })).toBe(1);
    // Each continue-as-new ends one execution and starts the next.
    expect(valueOf(samples, "durable_entities_orchestrations_started_total", { name: "CounterActor" })).toBe(3);
    expect(valueOf(samples, "durable_entities_orchestrations_finished_total", { name: "CounterActor", status: "ContinuedAsNew" })).toBe(2);
    expect(valueOf(samples, "durable_entities_orchestrations_finished_total", { name: "CounterActor", status: "Completed" })).toBe(1);
    expect(valueOf(samples, "durable_entities_orchestrations_finished_total", { name: "ApprovalWorkflow", status: "Terminated" })).toBe(1);
    expect(valueOf(samples, "durable_entities_activity_duration_seconds_count", { name: "SayHello", outcome: "ok" })).toBe(3);
    expect(valueOf(samples, "durable_entities_activity_duration_seconds_count", { name: "FlakyActivity", outcome: "failed" })).toBe(1);
    expect(valueOf(samples, "durable_entities_activity_failures_total", { name: "FlakyActivity" })).toBe(1);
    expect(valueOf(samples, "durable_entities_activity_failures_total", { name: "SayHello" })).toBeUndefined();
  });

  it("reads the gauges at scrape time: connections, subscriptions, mailbox depth, pending timers", async () => {
    expect(valueOf(samples, "durable_entities_connections", { transport })).toBe(1);
    expect(valueOf(samples, "durable_entities_subscriptions")).toBe(1);
    expect(valueOf(samples, "durable_entities_mailbox_depth")).toBe(0);
    expect(valueOf(samples, "durable_entities_timers_pending")).toBe(1);
    const second = await connect(server.url);
    try {
      expect(valueOf(parseMetrics((await scrape(server.url)).text), "durable_entities_connections", { transport })).toBe(2);
    } finally {
      await second.close();
    }
  });

  it("includes prom-client's default process metrics", () => {
    expect(valueOf(samples, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(valueOf(samples, "nodejs_heap_size_used_bytes")).toBeGreaterThan(0);
  });

  it("keeps labels bounded: no entity key or instance id is a label value", () => {
    const values = new Set(samples.flatMap((sample) => Object.values(sample.labels)));
    for (const value of values) {
      expect(value).not.toContain("/");
      expect(value).not.toContain("no-such-operation");
      for (const id of instanceIds) expect(value).not.toContain(id);
    }
  });
});

describe("GET /metrics with authentication", () => {
  const ADMIN = "metrics-admin-token-0123";
  const SCRAPER = "metrics-scraper-token-01";
  const READER = "metrics-reader-token-012";
  const ENTITIES_ONLY = "metrics-entities-token-0";
  const TOKENS: TokensFile = {
    tokens: {
      [ADMIN]: { name: "admin", grants: [{ entities: "*", actions: ["*"] }, { orchestrations: "*", actions: ["*"] }] },
      [SCRAPER]: { name: "prometheus", grants: [{ entities: "*", actions: ["read"] }, { orchestrations: "*", actions: ["status"] }] },
      [READER]: { name: "reader", grants: [{ entities: "Counter/*", actions: ["read"] }] },
      [ENTITIES_ONLY]: { name: "entity-reader", grants: [{ entities: "*", actions: ["read"] }] },
    },
  };
  let server: Awaited<ReturnType<typeof startTestServer>>;

  beforeAll(async () => {
    server = await startTestServer("ws", { access: TokenPolicy.fromTokens(TOKENS) });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("refuses a scrape without a token (401) or with a wrong one", async () => {
    expect((await scrape(server.url)).status).toBe(401);
    expect((await scrape(server.url, "not-a-token-of-this-server")).status).toBe(401);
  });

  it("refuses a token that may not read every entity and see every orchestration (403)", async () => {
    const reader = await scrape(server.url, READER);
    expect(reader.status).toBe(403);
    expect(JSON.parse(reader.text)).toMatchObject({ code: "forbidden", message: "reader may not read all entities, which /metrics needs (it counts every entity type and orchestration)" });
    expect((await scrape(server.url, ENTITIES_ONLY)).status).toBe(403);
  });

  it("serves a token that may (an admin's, or one granted read on entities * and status on orchestrations *)", async () => {
    for (const token of [ADMIN, SCRAPER]) {
      const scraped = await scrape(server.url, token);
      expect(scraped.status).toBe(200);
      expect(scraped.text).toContain("# TYPE durable_entities_operations_total counter");
    }
  });
});
