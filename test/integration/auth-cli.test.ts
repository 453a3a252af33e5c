import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import WebSocket from "ws";
import { afterEach, describe, expect, it } from "vitest";
import { connect, ErrorCode, type ClientOptions } from "../../clients/index.js";
import type { WebSocketLike } from "../../clients/web-socket.js";
import { killAndWait, runCliToEnd, startServerProcess } from "./support/server-process.js";
import { tempDataDir, TRANSPORTS } from "./support/test-server.js";

const OLD = "old-token-0123456789abcdef";
const NEW = "new-token-0123456789abcdef";
/** In both files: its connection stays through a reload, and the reload's grants apply to it. */
const KEPT = "kept-token-0123456789abcdef";
const tokens = (token: string, keptActions: string[]) =>
  JSON.stringify({ tokens: { [token]: { name: "ops", grants: [{ entities: "*", actions: ["*"] }] }, [KEPT]: { name: "kept", grants: [{ entities: "Counter/*", actions: keptActions }] } } });

/** A self-signed certificate for 127.0.0.1, made now. */
function selfSignedCertificate(dir: string): { certFile: string; keyFile: string } {
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", certFile, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
  return { certFile, keyFile };
}

/** Client options that trust the test's certificate. */
function trusting(ca: Buffer, token: string): ClientOptions {
  return {
    token,
    connectTimeoutMs: 5_000,
    webSocket: (url, auth) => new WebSocket(url, { ca, perMessageDeflate: false, headers: auth?.token ? { authorization: `Bearer ${auth.token}` } : {} }) as unknown as WebSocketLike,
  };
}

function httpsGet(url: string, ca: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { ca }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    })
      .on("error", reject)
      .end();
  });
}

describe("serve with --auth, --tls-cert and --tls-key", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it.each(TRANSPORTS)("serves https and wss over %s, and takes a new tokens file on SIGHUP: kept tokens' connections stay (with the new grants), revoked ones are closed", async (transport) => {
    const dir = tempDataDir();
    cleanups.push(dir.cleanup);
    const { certFile, keyFile } = selfSignedCertificate(dir.path);
    const ca = (await import("node:fs")).readFileSync(certFile);
    const tokensFile = join(dir.path, "tokens.json");
    writeFileSync(tokensFile, tokens(OLD, ["signal", "read"]));
    const server = await startServerProcess(["--data", join(dir.path, "data"), "--port", "0", "--transport", transport, "--auth", tokensFile, "--tls-cert", certFile, "--tls-key", keyFile]);
    cleanups.push(() => killAndWait(server.child));
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await httpsGet(`${server.url}/healthz`, ca)).toBe(200);
    expect(await httpsGet(`${server.url}/client.js`, ca)).toBe(200);

    const before = await connect(server.url, trusting(ca, OLD));
    cleanups.push(() => before.close());
    await before.signal("Counter/tls", "add", 1);
    const kept = await connect(server.url, trusting(ca, KEPT));
    cleanups.push(() => kept.close());
    await expect(kept.call("Counter/tls", "get")).rejects.toMatchObject({ code: ErrorCode.forbidden });

    writeFileSync(tokensFile, tokens(NEW, ["signal", "read", "call"]));
    server.child.kill("SIGHUP");
    const deadline = Date.now() + 10_000;
    for (;;) {
      const attempt = await connect(server.url, { ...trusting(ca, OLD), connectTimeoutMs: 1_000 }).then(
        async (client) => {
          await client.close();
          return "accepted";
        },
        (error: { code?: string }) => error.code,
      );
      if (attempt === ErrorCode.unauthorized) break;
      if (Date.now() > deadline) throw new Error(`the old token is still accepted after SIGHUP (${attempt})`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The connection of the revoked token was closed (4401); its client, refused when it reconnects, fails its requests.
    await expect(before.signal("Counter/tls", "add", 1)).rejects.toMatchObject({ code: ErrorCode.unauthorized });
    // The kept token's connection stayed open, and the new file's grants apply to it.
    expect(kept.connected).toBe(true);
    expect(await kept.call("Counter/tls", "get")).toBe(1);
    await kept.signal("Counter/tls", "add", 1);
    const after = await connect(server.url, trusting(ca, NEW));
    cleanups.push(() => after.close());
    expect(await after.call("Counter/tls", "get")).toBe(2);

    // A broken file on SIGHUP keeps the tokens in force.
    writeFileSync(tokensFile, "{ broken");
    server.child.kill("SIGHUP");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.stderr()).toMatch(/tokens file not reloaded/);
    const still = await connect(server.url, trusting(ca, NEW));
    await still.close();
  });

  it("uses an app's own authenticate and authorize hooks, and refuses them together with --auth", async () => {
    const dir = tempDataDir();
    cleanups.push(dir.cleanup);
    const app = join(process.cwd(), "test/fixtures/access-hooks-app.ts");
    const server = await startServerProcess(["--data", join(dir.path, "data"), "--port", "0", "--app", app]);
    cleanups.push(() => killAndWait(server.child));
    const ann = await connect(server.url, { token: "user-ann" });
    cleanups.push(() => ann.close());
    await ann.call("Note/ann", "write", "hello");
    expect(await ann.call("Note/ann", "read")).toBe("hello");
    await expect(ann.call("Note/bob", "read")).rejects.toMatchObject({ code: ErrorCode.forbidden });
    await expect(connect(server.url, { token: "nobody", connectTimeoutMs: 2_000 })).rejects.toMatchObject({ code: ErrorCode.unauthorized });

    const tokensFile = join(dir.path, "tokens.json");
    writeFileSync(tokensFile, tokens(OLD, ["signal", "read"]));
    const both = await runCliToEnd(["serve", "--data", join(dir.path, "other"), "--port", "0", "--app", app, "--auth", tokensFile]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/exports authenticate and authorize hooks and --auth gives a tokens file/);
  });

  it("refuses to serve a non-loopback address without --auth, and mismatched TLS options", async () => {
    const dir = tempDataDir();
    cleanups.push(dir.cleanup);
    const open = await runCliToEnd(["serve", "--data", join(dir.path, "data"), "--host", "0.0.0.0", "--port", "0"]);
    expect(open.code).toBe(1);
    expect(open.stderr).toMatch(/refusing to serve 0\.0\.0\.0 without authentication/);
    const half = await runCliToEnd(["serve", "--data", join(dir.path, "data"), "--port", "0", "--tls-cert", "x.pem"]);
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/--tls-cert and --tls-key go together/);
    const missing = await runCliToEnd(["serve", "--data", join(dir.path, "data"), "--port", "0", "--tls-cert", "x.pem", "--tls-key", "y.pem"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read the TLS certificate file .*x\.pem: ENOENT/);
  });
});
