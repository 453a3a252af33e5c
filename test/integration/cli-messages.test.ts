import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { WebSocketServer } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCliIn } from "./support/cli-in-dir.js";
import { runCliToEnd } from "./support/server-process.js";
import { freePort, tempDataDir, TRANSPORTS } from "./support/test-server.js";

const VERSION = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
}

describe("the CLI's messages", () => {
  it("prints its version for --version and -v, and its help for -h, exit code 0", async () => {
    for (const args of [["--version"], ["-v"], ["serve", "--version"]]) {
      expect(await runCliToEnd(args), args.join(" ")).toMatchObject({ code: 0, stdout: `${VERSION}\n`, stderr: "" });
    }
    for (const args of [["-h"], ["--help"], ["get", "-h"]]) {
      const result = await runCliToEnd(args);
      expect(result.code, args.join(" ")).toBe(0);
      expect(result.stdout, args.join(" ")).toMatch(/^durable-entities: .*\n\nusage:\n/);
    }
  });

  it("checks entity ids before connecting and says what an id looks like (exit code 2)", async () => {
    const url = `http://127.0.0.1:${await freePort()}`; // nothing listens: the check comes first
    const cases: Array<[string[], RegExp]> = [
      [["get", "Counter"], /^error: "Counter" is not an entity id: it has no key \(no slash\); an entity id is the entity's type name, a slash and a key, like Counter\/alice/],
      [["signal", "Counter/", "add", "1"], /^error: "Counter\/" is not an entity id: it has no key after the slash/],
      [["call", "my counter/x", "get"], /^error: "my counter\/x" is not an entity id: the type name "my counter" must start with a letter/],
      [["status", ""], /^error: "" is not an instance id/],
    ];
    for (const [args, pattern] of cases) {
      const result = await runCliToEnd([...args, "--url", url]);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
      expect(result.stderr, args.join(" ")).toMatch(pattern);
    }
  });

  describe("when no connection is made, says which failure it is", () => {
    const http = createServer((_request, response) => response.writeHead(404, { "content-type": "text/plain" }).end("not here"));
    const wsHost = createServer();
    const foreignWs = new WebSocketServer({ server: wsHost, path: "/ws" }); // speaks WebSocket, never says welcome
    let httpPort: number;
    let wsPort: number;
    beforeAll(async () => {
      httpPort = await listen(http);
      wsPort = await listen(wsHost);
    });
    afterAll(async () => {
      for (const client of foreignWs.clients) client.terminate();
      foreignWs.close();
      await new Promise((resolve) => http.close(resolve));
      await new Promise((resolve) => wsHost.close(resolve));
    });

    it("nothing listening: connection refused, with a hint to run durable-entities serve", async () => {
      const port = await freePort();
      const result = await runCliToEnd(["get", "Counter/alice", "--url", `http://127.0.0.1:${port}`]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `error: disconnected: nothing is listening at 127.0.0.1:${port} (connection refused); start a server with \`durable-entities serve\`, or point --url (or DURABLE_ENTITIES_URL) at a running one\n`,
      );
    });

    it("a host name that does not resolve", async () => {
      const result = await runCliToEnd(["get", "Counter/alice", "--url", "http://no-such-host.invalid:7071"]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^error: disconnected: the host "no-such-host\.invalid" was not found \(DNS lookup failed: E[A-Z_]+\); check the host name in --url/);
    });

    it("an HTTP server that is not this one", async () => {
      const result = await runCliToEnd(["call", "Counter/alice", "get", "--url", `http://127.0.0.1:${httpPort}`]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `error: disconnected: 127.0.0.1:${httpPort} is not a durable-entities server: it answered the WebSocket request for /ws with HTTP 404; check the port in --url (durable-entities serves /healthz and /ws)\n`,
      );
    });

    it("a WebSocket server that does not speak the protocol", async () => {
      const result = await runCliToEnd(["get", "Counter/alice", "--url", `http://127.0.0.1:${wsPort}`]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^error: disconnected: 127\.0\.0\.1:\d+ accepted a WebSocket but did not answer the durable-entities handshake within 2000 ms.*; is it a durable-entities server\?\n$/);
    });
  });

  describe.each(TRANSPORTS)("a start that fails (port in use, over %s)", (transport) => {
    it("creates no data directory and leaves nothing behind", async () => {
      const cwd = tempDataDir();
      const holder = createServer();
      const port = await listen(holder);
      try {
        mkdirSync(join(cwd.path, "empty"));
        for (const data of [[], ["--data", "nested/store"], ["--data", "empty"]]) {
          const result = await runCliIn(cwd.path, ["serve", "--transport", transport, "--port", String(port), ...data]);
          expect(result.code, data.join(" ")).toBe(1);
          expect(result.stderr, data.join(" ")).toMatch(/^error: could not listen on 127\.0\.0\.1:\d+/);
        }
        expect(readdirSync(cwd.path)).toEqual(["empty"]);
        expect(readdirSync(join(cwd.path, "empty"))).toEqual([]);
      } finally {
        await new Promise((resolve) => holder.close(resolve));
        cwd.cleanup();
      }
    });
  });
});
