import { afterEach, describe, expect, it } from "vitest";
import { connect, type DurableClient } from "../../clients/index.js";
import * as demo from "../../src/demo/app.js";
import type { Transfer } from "../../src/demo/app.js";
import { createLogger } from "../../src/log.js";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";

const ACCOUNTS = 10;
const SEED = 1_000;

/** Seeds the accounts, runs `count` transfers at once between random pairs, and returns their outputs. */
async function runTransfers(client: DurableClient, count: number, seed = 7): Promise<Array<{ ok: boolean; fromBalance: number; toBalance: number }>> {
  let random = seed;
  const next = (n: number) => ((random = (random * 1103515245 + 12345) % 2 ** 31), random % n);
  const ids = await Promise.all(
    Array.from({ length: count }, () => {
      const from = next(ACCOUNTS);
      const to = (from + 1 + next(ACCOUNTS - 1)) % ACCOUNTS;
      return client.start<typeof Transfer>("Transfer", { from: `a${from}`, to: `a${to}`, amount: 1 + next(100) });
    }),
  );
  const done = await Promise.all(ids.map((id) => client.waitForCompletion<typeof Transfer>(id, { timeoutMs: 60_000 })));
  for (const status of done) expect(status.runtimeStatus, JSON.stringify(status.failureDetails)).toBe("Completed");
  return done.map((status) => status.output as { ok: boolean; fromBalance: number; toBalance: number });
}

describe.each(TRANSPORTS)("transfers between accounts in critical sections, over %s", (transport) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("200 concurrent transfers among 10 accounts: the total is kept, no balance goes negative, none deadlocks, nothing stays locked", async () => {
    const server = await startTestServer(transport, { app: demo, log: createLogger("error") });
    cleanups.push(() => server.stop());
    const client = await connect(server.url);
    cleanups.push(() => client.close());
    await Promise.all(Array.from({ length: ACCOUNTS }, (_, i) => client.signal(`Account/a${i}`, "deposit", SEED)));
    const outputs = await runTransfers(client, 200);
    expect(outputs.filter((output) => output.ok).length).toBeGreaterThan(100);
    const balances = await Promise.all(Array.from({ length: ACCOUNTS }, (_, i) => client.call<number>(`Account/a${i}`, "get")));
    expect(balances.reduce((sum, balance) => sum + balance, 0)).toBe(ACCOUNTS * SEED);
    for (const balance of balances) expect(balance).toBeGreaterThanOrEqual(0);
    for (const output of outputs) expect(output.fromBalance).toBeGreaterThanOrEqual(0);
    for (let i = 0; i < ACCOUNTS; i++) expect(server.runtime.pipeline.store.readEntity(`Account/a${i}`)?.lock).toBeUndefined();
  });
});
