import type { ClientFrame } from "../../../protocol/client-frames.js";
import type { ServerFrame } from "../../../protocol/server-frames.js";
import { vi } from "vitest";
import { connect, type ClientOptions, type DurableClient, type WebSocketLike } from "../../../clients/index.js";

/** One WebSocket of the fake server: what the client sends lands in the server's log. */
class FakeSocket implements WebSocketLike {
  readyState = 0;
  onopen: WebSocketLike["onopen"] = null;
  onmessage: WebSocketLike["onmessage"] = null;
  onclose: WebSocketLike["onclose"] = null;
  onerror: WebSocketLike["onerror"] = null;
  closed = false;

  constructor(private readonly server: FakeServer) {}

  send(data: string): void {
    if (!this.closed) this.server.receive(this, data);
  }

  close(code = 1000, reason = ""): void {
    if (this.closed) return;
    this.closed = true;
    this.readyState = 3;
    queueMicrotask(() => this.onclose?.({ code, reason }));
  }
}

/**
 * A server frame stream for client tests: it welcomes every hello, records every frame the client
 * sends (with the number of the connection it came on), and lets the test answer, push frames and
 * drop the connection.
 */
export class FakeServer {
  readonly frames: Array<{ connection: number; frame: ClientFrame }> = [];
  private sockets: FakeSocket[] = [];
  private waiters: Array<() => void> = [];
  /** While false, new connections are refused (the socket closes at once). */
  accepting = true;

  readonly webSocket = (): WebSocketLike => {
    const socket = new FakeSocket(this);
    this.sockets.push(socket);
    // Opens on a later turn, as a real socket does (the client sets its handlers once the factory returned).
    setImmediate(() => {
      if (!this.accepting) return socket.close(1006);
      socket.readyState = 1;
      socket.onopen?.({});
    });
    return socket;
  };

  /** Connects a real client to this fake server, reconnecting at once after a drop. */
  async connect(options: ClientOptions = {}): Promise<DurableClient> {
    return connect("ws://fake.invalid/ws", { webSocket: this.webSocket, reconnect: { initialDelayMs: 1, maxDelayMs: 1, jitter: 0 }, onError: () => {}, ...options });
  }

  /** How many connections were opened. */
  get connections(): number {
    return this.sockets.length;
  }

  receive(socket: FakeSocket, data: string): void {
    const parsed = JSON.parse(data) as ClientFrame | ClientFrame[];
    for (const frame of Array.isArray(parsed) ? parsed : [parsed]) {
      if (frame.type === "hello") {
        this.sendOn(socket, [{ type: "welcome", version: frame.version, maxMessageBytes: 1 << 20 }]);
        continue;
      }
      this.frames.push({ connection: this.sockets.indexOf(socket) + 1, frame });
    }
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Sends frames to the client on the current connection. */
  send(...frames: ServerFrame[]): void {
    this.sendOn(this.sockets.at(-1)!, frames);
  }

  /** Closes the current connection (the client reconnects). */
  drop(): void {
    this.sockets.at(-1)?.close(1006);
  }

  /** The frames of one type the client sent (all connections). */
  sent<T extends ClientFrame["type"]>(type: T): Array<Extract<ClientFrame, { type: T }>> {
    return this.frames.filter(({ frame }) => frame.type === type).map(({ frame }) => frame as Extract<ClientFrame, { type: T }>);
  }

  /** Resolves with the first frame sent (now or later) that `match` accepts, after `skip` earlier matches. */
  async next<T extends ClientFrame["type"]>(type: T, skip = 0): Promise<Extract<ClientFrame, { type: T }>> {
    for (;;) {
      const found = this.sent(type)[skip];
      if (found !== undefined) return found;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private sendOn(socket: FakeSocket, frames: ServerFrame[]): void {
    queueMicrotask(() => socket.onmessage?.({ data: JSON.stringify(frames.length === 1 ? frames[0] : frames) }));
  }
}

/** A status as the server sends it. */
export function statusOf(instanceId: string, runtimeStatus: string, extra: Record<string, unknown> = {}) {
  return {
    name: "Greetings",
    instanceId,
    runtimeStatus: runtimeStatus as "Running",
    input: null,
    output: null,
    customStatus: null,
    createdTime: "2026-01-01T00:00:00.000Z",
    lastUpdatedTime: "2026-01-01T00:00:01.000Z",
    ...extra,
  };
}

/**
 * Fake setTimeout and clearTimeout (the client's timers) from now until vi.useRealTimers(); the fake
 * sockets keep opening on setImmediate. Advance with vi.advanceTimersByTimeAsync (not vi.waitUntil,
 * which advances fake time on its own).
 */
export function useFakeTimeouts(): void {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
}
