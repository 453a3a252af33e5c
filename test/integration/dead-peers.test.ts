import WebSocket from "ws";
import { afterEach, describe, expect, it } from "vitest";
import { connect } from "../../clients/index.js";
import type { WebSocketLike } from "../../clients/web-socket.js";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";
import { until } from "./support/until.js";

/** One heartbeat: uWebSockets.js counts idle time in 4-second steps, so a dead peer goes within 8 to 12 s there. */
const HEARTBEAT_SECONDS = 2;

/** Opens a raw socket that answers pings (`alive`) or not, and records when it is closed. */
function peer(url: string, alive: boolean): Promise<{ socket: WebSocket; closed: () => boolean }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url.replace(/^http/, "ws")}/ws`, { autoPong: alive });
    let closed = false;
    socket.on("close", () => (closed = true));
    socket.on("error", () => {});
    socket.on("open", () => {
      socket.send(JSON.stringify({ type: "hello", version: 1 }));
      resolve({ socket, closed: () => closed });
    });
    socket.once("unexpected-response", () => reject(new Error("upgrade refused")));
  });
}

/**
 * A socket that goes deaf: once `deaf()` is called it answers no ping and drops what it receives (a
 * stalled network), until the server drops it. The client then opens a healthy one.
 */
class DeafeningSocket {
  private deafNow = false;
  constructor(readonly socket: WebSocket) {}
  static open(url: string): WebSocketLike & { deaf(): void } {
    const socket = new WebSocket(url, { autoPong: false, perMessageDeflate: false });
    const wrapper = new DeafeningSocket(socket);
    socket.on("ping", (data) => {
      if (!wrapper.deafNow) socket.pong(data);
    });
    const like = {
      get readyState() {
        return socket.readyState;
      },
      onopen: null as WebSocketLike["onopen"],
      onmessage: null as WebSocketLike["onmessage"],
      onclose: null as WebSocketLike["onclose"],
      onerror: null as WebSocketLike["onerror"],
      send: (data: string) => socket.send(data),
      close: (code?: number, reason?: string) => socket.close(code, reason),
      deaf: () => (wrapper.deafNow = true),
    };
    socket.on("open", () => like.onopen?.({}));
    socket.on("message", (data) => {
      if (!wrapper.deafNow) like.onmessage?.({ data: data.toString() });
    });
    socket.on("close", (code, reason) => like.onclose?.({ code, reason: reason.toString() }));
    socket.on("error", (error) => like.onerror?.(error));
    return like;
  }
}

describe.each(TRANSPORTS)("dead peers (%s)", (transport) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("drops a peer that stops answering pings, and keeps one that answers", async () => {
    const server = await startTestServer(transport, { heartbeatSeconds: HEARTBEAT_SECONDS });
    cleanups.push(server.stop);
    const dead = await peer(server.url, false);
    const live = await peer(server.url, true);
    cleanups.push(() => live.socket.close());
    await until(() => dead.closed(), 30_000);
    expect(live.closed()).toBe(false);
  }, 40_000);

  it("the client reconnects after its deaf connection is dropped, and the signal whose ack it missed is applied once", async () => {
    const server = await startTestServer(transport, { heartbeatSeconds: HEARTBEAT_SECONDS });
    cleanups.push(server.stop);
    const sockets: Array<ReturnType<typeof DeafeningSocket.open>> = [];
    const client = await connect(server.url, {
      disconnectTimeoutMs: 60_000,
      webSocket: (url) => {
        const socket = DeafeningSocket.open(url);
        sockets.push(socket);
        return socket;
      },
    });
    cleanups.push(() => client.close());
    sockets[0]!.deaf();
    const signalled = client.signal("Counter/deaf", "add", 5); // applied; its ack never heard on the first socket
    await until(() => sockets.length >= 2, 30_000);
    await signalled;
    expect(await client.call("Counter/deaf", "get")).toBe(5);
  }, 40_000);
});
