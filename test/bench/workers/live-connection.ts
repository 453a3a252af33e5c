/**
 * One subscriber connection of `live-state`, through the real client or a minimal raw WebSocket. The raw
 * one parses each message and reads `count` from the snapshot or the patch, nothing more: comparing the
 * two shows what the client costs the load processes, which share the machine's cores with the server.
 */
import { connect, type DurableClient } from "../../../clients/index.js";
import { MinimalWebSocket } from "./minimal-websocket.js";

/** A change arrived: the entity's version and its state's `count`. */
export type OnUpdate = (version: number, count: number, kind: "snapshot" | "patch") => void;

export interface LiveConnection {
  /** Resolves once the first snapshot arrived. */
  readonly ready: Promise<void>;
  readonly connected: boolean;
  close(): Promise<void> | void;
}

type StatsState = { count: number } | null;

export async function clientSubscriber(url: string, entity: string, onUpdate: OnUpdate, onError: (message: string) => void): Promise<LiveConnection> {
  const client: DurableClient = await connect(url, { onError: (error) => onError(`${error.code}: ${error.message}`), connectTimeoutMs: 60_000 });
  const subscription = client.subscribe<StatsState>(entity, (state, info) => onUpdate(info.version, state?.count ?? 0, info.kind));
  return {
    ready: subscription.ready.then(() => undefined),
    get connected() {
      return client.connected;
    },
    close: () => client.close(),
  };
}

type RawFrame = {
  type: string;
  version?: number;
  state?: StatsState;
  patch?: Array<{ op: string; path: string; value?: unknown }>;
  code?: string;
  message?: string;
};

export async function rawSubscriber(url: string, entity: string, onUpdate: OnUpdate, onError: (message: string) => void): Promise<LiveConnection> {
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  let count = 0;
  const socket: MinimalWebSocket = await MinimalWebSocket.open(`${url.replace(/^http/, "ws")}/ws`, {
    onMessage(text) {
      const parsed = JSON.parse(text) as RawFrame | RawFrame[];
      for (const frame of Array.isArray(parsed) ? parsed : [parsed]) {
        if (frame.type === "welcome") socket.send(JSON.stringify({ type: "subscribe", id: 1, entity }));
        else if (frame.type === "snapshot") {
          count = frame.state?.count ?? 0;
          onUpdate(frame.version!, count, "snapshot");
          resolveReady();
        } else if (frame.type === "patch") {
          const change = frame.patch!.find((op) => op.path === "/count");
          if (change) count = change.value as number;
          onUpdate(frame.version!, count, "patch");
        } else if (frame.type === "error") onError(`${frame.code}: ${frame.message}`);
      }
    },
    onClose() {},
    onError,
  });
  socket.send(JSON.stringify({ type: "hello", version: 1 }));
  return {
    ready,
    get connected() {
      return socket.open;
    },
    close: () => socket.close(),
  };
}
