import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { connect, ErrorCode } from "../../clients/index.js";
import { TokenPolicy, type TokensFile } from "../../src/security/index.js";
import { startTestServer, tempDataDir, TRANSPORTS } from "./support/test-server.js";

/**
 * A reloaded tokens file applies to the connections already open: a token it no longer holds loses
 * its connections (closed with 4401; the client fails what waits with `unauthorized` and does not
 * get back in), and a token it keeps stays connected with the grants the file now gives it.
 */

const REVOKED = "revoked-token-0123456789";
const KEPT = "kept-token-0123456789abc";

function tokensFile(entries: TokensFile["tokens"]): string {
  return JSON.stringify({ tokens: entries });
}

describe.each(TRANSPORTS)("revoking a token by reloading the tokens file (%s)", (transport) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("closes the revoked token's connections and applies the new grants to the kept ones", async () => {
    const dir = tempDataDir();
    cleanups.push(dir.cleanup);
    const file = join(dir.path, "tokens.json");
    writeFileSync(
      file,
      tokensFile({
        [REVOKED]: { name: "revoked", grants: [{ entities: "*", actions: ["*"] }] },
        [KEPT]: { name: "kept", grants: [{ entities: "Counter/*", actions: ["signal"] }] },
      }),
    );
    const server = await startTestServer(transport, { dataDir: join(dir.path, "data"), access: await TokenPolicy.fromFile(file) });
    cleanups.push(() => server.close());
    const errors: string[] = [];
    const revoked = await connect(server.url, { token: REVOKED, onError: (error) => errors.push(error.code) });
    cleanups.push(() => revoked.close());
    const kept = await connect(server.url, { token: KEPT });
    cleanups.push(() => kept.close());
    const watching = revoked.subscribe("Counter/r", () => {});
    await watching.ready;
    await revoked.signal("Counter/r", "add", 1);
    await kept.signal("Counter/r", "add", 1);
    await expect(kept.get("Counter/r")).rejects.toMatchObject({ code: ErrorCode.forbidden });

    writeFileSync(file, tokensFile({ [KEPT]: { name: "kept", grants: [{ entities: "Counter/*", actions: ["signal", "read"] }] } }));
    await server.reloadAccess();

    // The revoked token's client: its connection is gone, it is refused on reconnecting, and its requests fail with the reason.
    await expect.poll(() => errors.includes(ErrorCode.unauthorized), { timeout: 10_000 }).toBe(true);
    expect(revoked.connected).toBe(false);
    await expect(revoked.signal("Counter/r", "add", 1)).rejects.toMatchObject({ code: ErrorCode.unauthorized });
    // The kept token's connection never dropped, and may now read.
    expect(kept.connected).toBe(true);
    expect(await kept.get("Counter/r")).toBe(2);
    // A new connection with the revoked token is refused.
    await expect(connect(server.url, { token: REVOKED, connectTimeoutMs: 5_000 })).rejects.toMatchObject({ code: ErrorCode.unauthorized });
  });

  it("keeps every connection when the reloaded file cannot be read, and the tokens in force stay", async () => {
    const dir = tempDataDir();
    cleanups.push(dir.cleanup);
    const file = join(dir.path, "tokens.json");
    writeFileSync(file, tokensFile({ [KEPT]: { name: "kept", grants: [{ entities: "*", actions: ["*"] }] } }));
    const server = await startTestServer(transport, { dataDir: join(dir.path, "data"), access: await TokenPolicy.fromFile(file) });
    cleanups.push(() => server.close());
    const client = await connect(server.url, { token: KEPT });
    cleanups.push(() => client.close());
    writeFileSync(file, "{ not json");
    await expect(server.reloadAccess()).rejects.toThrow();
    await client.signal("Counter/k", "add", 1);
    expect(await client.get("Counter/k")).toBe(1);
    expect(client.connected).toBe(true);
  });
});
