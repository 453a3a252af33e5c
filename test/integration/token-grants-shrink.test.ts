import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { connect, ErrorCode } from "../../clients/index.js";
import { TokenPolicy, type TokensFile } from "../../src/security/index.js";
import { startTestServer, tempDataDir, TRANSPORTS } from "./support/test-server.js";

/*
 * A token that stays in the tokens file but loses grants on a reload: its connection stays open and new
 * requests are authorized by the new grants; what it had opened already (a live subscription, an
 * instance watch) and may no longer see ends: the connection is closed (4403), and its client's
 * resubscribe is refused.
 */

const ADMIN = "admin-token-0123456789abcdef";
const WATCHER = "watcher-token-0123456789abc";

const tokensFile = (entries: TokensFile["tokens"]) => JSON.stringify({ tokens: entries });

describe.each(TRANSPORTS)("a token whose grants shrink on reload (%s)", (transport) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup(watcherGrants: TokensFile["tokens"][string]["grants"]) {
    const dir = tempDataDir();
    cleanups.push(dir.cleanup);
    const file = join(dir.path, "tokens.json");
    const admin = { name: "admin", grants: [{ entities: "*", actions: ["*"] }, { orchestrations: "*", actions: ["*"] }] } as TokensFile["tokens"][string];
    writeFileSync(file, tokensFile({ [ADMIN]: admin, [WATCHER]: { name: "watcher", grants: watcherGrants } }));
    const server = await startTestServer(transport, { dataDir: join(dir.path, "data"), access: await TokenPolicy.fromFile(file) });
    cleanups.push(() => server.close());
    const adminClient = await connect(server.url, { token: ADMIN });
    cleanups.push(() => adminClient.close());
    const watcher = await connect(server.url, { token: WATCHER });
    cleanups.push(() => watcher.close());
    const shrink = async (grants: TokensFile["tokens"][string]["grants"]) => {
      writeFileSync(file, tokensFile({ [ADMIN]: admin, [WATCHER]: { name: "watcher", grants } }));
      await server.reloadAccess();
    };
    return { adminClient, watcher, shrink };
  }

  it("stops sending a live subscription's changes once the token may no longer subscribe to that entity", async () => {
    const { adminClient, watcher, shrink } = await setup([{ entities: "Counter/*", actions: ["subscribe", "read"] }]);
    const seen: unknown[] = [];
    const subscription = watcher.subscribe<number>("Counter/secret", (state) => seen.push(state));
    await subscription.ready;
    await adminClient.signal("Counter/secret", "add", 1);
    await expect.poll(() => seen[seen.length - 1], { timeout: 5_000 }).toBe(1);

    await shrink([{ entities: "Counter/public", actions: ["subscribe", "read"] }]);
    // The new grants apply to requests: subscribing to it again is refused.
    await expect(watcher.get("Counter/secret")).rejects.toMatchObject({ code: ErrorCode.forbidden });
    const again = watcher.subscribe<number>("Counter/other-secret", () => {});
    await expect(again.ready).rejects.toMatchObject({ code: ErrorCode.forbidden });

    await adminClient.signal("Counter/secret", "add", 41);
    await new Promise((resolve) => setTimeout(resolve, 500));
    // The subscription opened under the old grants still streams the entity's new state to this token.
    expect(seen, "states of Counter/secret sent after the token lost its subscribe grant").not.toContain(42);
  });

  it("stops reporting an instance's status once the token may no longer see that orchestration", async () => {
    const { adminClient, watcher, shrink } = await setup([{ orchestrations: "*", actions: ["status"] }]);
    const instanceId = await adminClient.start("CounterActor", 0, { instanceId: "review-watched" });
    const customStatuses: unknown[] = [];
    const watch = watcher.watch(instanceId, (status) => customStatuses.push(status?.customStatus));
    await watch.ready;
    await expect.poll(() => customStatuses.includes(0), { timeout: 5_000 }).toBe(true);

    await shrink([{ orchestrations: "Nothing", actions: ["status"] }]);
    await expect(watcher.status(instanceId)).rejects.toMatchObject({ code: ErrorCode.forbidden });
    await adminClient.raiseEvent(instanceId, "operation", "incr");
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(customStatuses, "statuses of the instance sent after the token lost its status grant").not.toContain(1);
  });
});
