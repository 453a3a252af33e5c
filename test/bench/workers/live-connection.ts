/**
 * One subscriber connection of `live-state`, through the real client or a raw `ws` socket. The raw
 * one parses each message and reads `count` from the snapshot or the patch, nothing more: comparing the
 * two shows what the client costs the load processes, which share the machine's cores with the server.
 */
import WebSocket from "ws";
import { connect, type DurableClient } from "../../../clients/index.js";

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

export function rawSubscriber(url: string, entity: string, onUpdate: OnUpdate, onError: (message: string) => void): Promise<LiveConnection> {
  const socket = new WebSocket(`${url.replace(/^http/, "ws")}/ws`, { perMessageDeflate: false });
  let open = false;
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  let count = 0;
  socket.on("message", (data: Buffer) => {
    const parsed = JSON.parse(data.toString("utf8")) as RawFrame | RawFrame[];
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
  });
  socket.on("close", () => (open = false));
  socket.on("error", (error) => onError(`socket: ${error.message}`));
  return new Promise((resolve, reject) => {
    socket.once("open", () => {
      open = true;
      socket.send(JSON.stringify({ type: "hello", version: 1 }));
      resolve({
        ready,
        get connected() {
          return open;
        },
        close: () => socket.close(1000),
      });
    });
    socket.once("error", reject);
  });
}
