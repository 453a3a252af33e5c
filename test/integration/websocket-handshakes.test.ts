import { connect as tcpConnect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TokenPolicy } from "../../src/security/index.js";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";

/**
 * Broken WebSocket handshakes that carry a valid token: they pass authentication and reach the
 * WebSocket library. Like every other refusal of this server (README, Security: "Errors are JSON
 * { code, message }"), they must be answered with a JSON error, not the library's own text.
 */

const TOKEN = "handshake-admin-token-0123";
const KEY = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

/** The first complete response to `request` on a fresh connection (uWebSockets.js may keep the connection open after it). */
function firstResponse(port: number, request: string): Promise<{ status: number; contentType: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, "127.0.0.1");
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete response within 10 s; got ${JSON.stringify(data.toString("latin1").slice(0, 300))}`));
    }, 10_000);
    const done = () => {
      const text = data.toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) return false;
      const head = text.slice(0, end);
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (data.length < end + 4 + length) return false;
      clearTimeout(timer);
      socket.destroy();
      resolve({
        status: Number(head.split(" ")[1]),
        contentType: /\r\ncontent-type: *([^\r]*)/i.exec(head)?.[1] ?? "",
        body: data.subarray(end + 4, end + 4 + length).toString("utf8"),
      });
      return true;
    };
    socket.on("connect", () => socket.write(request));
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      done();
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on("close", () => {
      if (!done()) {
        clearTimeout(timer);
        reject(new Error(`the connection closed without a complete response: ${JSON.stringify(data.toString("latin1").slice(0, 300))}`));
      }
    });
  });
}

function upgradeRequest(lines: string): string {
  return `GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${lines}\r\n`;
}

/** Handshakes both transports refuse. */
const REFUSED_BY_BOTH: Array<[string, string]> = [
  ["without Sec-WebSocket-Key", upgradeRequest("Sec-WebSocket-Version: 13\r\n")],
  ["with a Sec-WebSocket-Key that is not 16 bytes of base64", upgradeRequest("Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n")],
];

/** Handshakes the `ws` library refuses (uWebSockets.js accepts these; its leniency is not this server's to change). */
const REFUSED_BY_WS: Array<[string, string]> = [
  ["with Sec-WebSocket-Version 7", upgradeRequest(`${KEY}Sec-WebSocket-Version: 7\r\n`)],
  ["without Sec-WebSocket-Version", upgradeRequest(KEY)],
  ["with a malformed Sec-WebSocket-Protocol", upgradeRequest(`${KEY}Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: a b\r\n`)],
  ["upgrading to h2c", upgradeRequest(`${KEY}Sec-WebSocket-Version: 13\r\n`).replace("Upgrade: websocket", "Upgrade: h2c")],
  ["with POST", upgradeRequest(`${KEY}Sec-WebSocket-Version: 13\r\nContent-Length: 0\r\n`).replace("GET /ws", "POST /ws")],
];

describe.each(TRANSPORTS)("broken WebSocket handshakes with a valid token over %s", (transport) => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  beforeAll(async () => {
    server = await startTestServer(transport, { access: TokenPolicy.fromTokens({ tokens: { [TOKEN]: { name: "admin", grants: [{ entities: "*", actions: ["*"] }] } } }) });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it.each(transport === "ws" ? [...REFUSED_BY_BOTH, ...REFUSED_BY_WS] : REFUSED_BY_BOTH)("an upgrade %s is refused with a 4xx and a JSON { code, message }", async (_name, request) => {
    const response = await firstResponse(server.port, request);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect({ contentType: response.contentType, body: response.body }).toEqual({
      contentType: expect.stringMatching(/^application\/json/),
      body: expect.stringMatching(/^\{"code":"[a-z_]+","message":"[^"]+/),
    });
  });
});
