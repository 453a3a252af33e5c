import { describe, expect, it } from "vitest";
import { RawSocket } from "./support/raw-socket.js";
import { parseResponse, rawExchange } from "./support/raw-http.js";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";

/** Request lines this server does not serve, each a whole request. */
const UNSERVED_REQUESTS: Record<string, string | Buffer> = {
  "absolute-form target": "GET http://x/healthz HTTP/1.1\r\nHost: x\r\n\r\n",
  "asterisk-form target": "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
  "HTTP/0.9 request line": "GET /healthz\r\n\r\n",
  "HTTP/1.1 request without Host": "GET /healthz HTTP/1.1\r\nAccept: */*\r\n\r\n",
  "garbage bytes": Buffer.from([0x00, 0x01, 0xff, 0xfe, 0x47, 0x45, 0x54, 0x0d, 0x0a, 0x0d, 0x0a]),
};

/** Far longer than any wait the server should need; the uWebSockets.js build closes such connections after about 12 s. */
const WAIT_MS = 30_000;

/** A text frame whose payload is not UTF-8 (`ws` sends a Buffer as given with `binary: false`). */
const INVALID_UTF8 = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);

describe.each(TRANSPORTS)("HTTP edge cases over %s", (transport) => {
  it("ends unserved request lines (absolute-form, *, HTTP/0.9, no Host, garbage) by closing the connection: after a JSON 400 over ws, without a reply over uws", async () => {
    const server = await startTestServer(transport);
    try {
      const exchanges = await Promise.all(
        Object.entries(UNSERVED_REQUESTS).map(async ([name, bytes]) => ({ name, ...(await rawExchange(server.port, bytes, WAIT_MS)) })),
      );
      for (const { name, reply, closed } of exchanges) {
        expect(closed, `${name}: the server closes the connection`).toBe(true);
        if (transport === "uws") {
          // uWebSockets.js's parser (this build) never passes these to the application and has no hook for them: it
          // sends nothing and closes the connection on its own HTTP idle timeout. See the comment at app.any in
          // uws-transport.ts. If this starts failing, uWebSockets.js answers them itself now: expect its 400 here.
          expect(reply, `${name}: no reply from uWebSockets.js`).toBe("");
          continue;
        }
        const response = parseResponse(reply);
        expect(response.status, name).toBe(400);
        expect(response.headers.connection, name).toBe("close");
        expect(JSON.parse(response.body), name).toMatchObject({ code: "bad_request", message: expect.any(String) });
      }
      // The server still serves well-formed requests.
      const healthy = parseResponse((await rawExchange(server.port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", WAIT_MS)).reply);
      expect(healthy.status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it("repeats at most the first 100 characters of an unknown path in its 404, marked as cut", async () => {
    const server = await startTestServer(transport);
    try {
      const longPath = `/${"y".repeat(3000)}`;
      const long = parseResponse((await rawExchange(server.port, `GET ${longPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, WAIT_MS)).reply);
      expect(long.status).toBe(404);
      expect(long.body.length).toBeLessThan(400);
      const { code, message } = JSON.parse(long.body) as { code: string; message: string };
      expect(code).toBe("not_found");
      expect(message).toContain(longPath.slice(0, 100));
      expect(message).not.toContain(longPath.slice(0, 101));
      expect(message).toContain("cut; 3001 characters");

      const short = parseResponse((await rawExchange(server.port, "GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", WAIT_MS)).reply);
      expect(JSON.parse(short.body)).toMatchObject({ code: "not_found", message: "nothing at /nowhere; the WebSocket endpoint is /ws" });
    } finally {
      await server.stop();
    }
  });

  it("fails a connection that sends a text frame that is not UTF-8 (1007 over ws; uws drops it, 1006) and keeps serving the others", async () => {
    const server = await startTestServer(transport);
    try {
      const bystander = await RawSocket.greeted(server.port);
      const offender = await RawSocket.greeted(server.port);
      offender.socket.send(INVALID_UTF8, { binary: false });
      // uWebSockets.js checks UTF-8 before the application sees a message and drops the connection without a close
      // frame (every uWebSockets version does: see the comment at `message` in uws-transport.ts), so its peer sees 1006.
      expect(await offender.waitForClose(WAIT_MS)).toBe(transport === "uws" ? 1006 : 1007);
      bystander.send({ type: "call", id: 1, entity: "Counter/utf8-bystander", op: "add", input: 1 });
      expect((await bystander.waitFor((frame) => frame.type === "result")).value).toBe(1);
      bystander.close();
    } finally {
      await server.stop();
    }
  });
});
