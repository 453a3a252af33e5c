/**
 * Load process for `held-connections`: opens `connections` WebSockets with a bearer token (the header,
 * as the Node client sends it), completes the handshake on each, and holds them. On `check` it sends
 * one `get` of `entity` on every connection and reports how many answered with the expected state; on
 * `close` it closes them all. Connections that close on their own while held are counted.
 */
import WebSocket from "ws";
import { next, now, runWorker, send } from "./ipc.js";

interface Config {
  readonly url: string;
  readonly token: string;
  readonly connections: number;
  /** Handshakes in flight at once. */
  readonly concurrency: number;
}

interface Check {
  readonly entity: string;
  readonly state: unknown;
}

runWorker(async () => {
  const config = await next<Config>("config");
  const wsUrl = `${config.url.replace(/^http/, "ws")}/ws`;
  const sockets: WebSocket[] = [];
  /** The answer each connection is waiting for, by socket. */
  const waiting = new Map<WebSocket, (frame: Record<string, unknown>) => void>();
  let droppedWhileHeld = 0;
  let holding = false;
  let firstError: string | undefined;

  const open = () =>
    new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${config.token}` }, perMessageDeflate: false });
      socket.on("message", (data) => {
        const parsed = JSON.parse(data.toString()) as Record<string, unknown> | Array<Record<string, unknown>>;
        for (const frame of Array.isArray(parsed) ? parsed : [parsed]) waiting.get(socket)?.(frame);
      });
      socket.once("close", () => {
        if (holding) droppedWhileHeld++;
      });
      socket.on("error", (error) => {
        firstError ??= error.message;
        reject(error);
      });
      waiting.set(socket, (frame) => {
        if (frame.type !== "welcome") return reject(new Error(`expected welcome, got ${JSON.stringify(frame)}`));
        waiting.delete(socket);
        resolve(socket);
      });
      socket.once("open", () => socket.send(JSON.stringify({ type: "hello", version: 1 })));
    });

  const startedAt = now();
  let opened = 0;
  const opener = async () => {
    while (opened < config.connections) {
      opened++;
      sockets.push(await open());
    }
  };
  await Promise.all(Array.from({ length: Math.min(config.concurrency, config.connections) }, opener));
  holding = true;
  send({ type: "ready", connections: sockets.length, connectMs: now() - startedAt });

  const check = await next<Check>("check");
  const expected = JSON.stringify(check.state);
  const checkStarted = now();
  const answers = await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<"right" | "wrong" | "closed">((resolve) => {
          if (socket.readyState !== WebSocket.OPEN) return resolve("closed");
          const timer = setTimeout(() => resolve("closed"), 60_000);
          waiting.set(socket, (frame) => {
            if (frame.id !== 1) return;
            clearTimeout(timer);
            waiting.delete(socket);
            resolve(frame.type === "state" && JSON.stringify(frame.state) === expected ? "right" : "wrong");
          });
          socket.send(JSON.stringify({ type: "get", id: 1, entity: check.entity }));
        }),
    ),
  );
  const count = (kind: string) => answers.filter((answer) => answer === kind).length;
  send({ type: "checked", right: count("right"), wrong: count("wrong"), unanswered: count("closed"), checkMs: now() - checkStarted, droppedWhileHeld, firstError: firstError ?? null });

  await next("close");
  holding = false;
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (socket.readyState === WebSocket.CLOSED) return resolve();
          socket.once("close", () => resolve());
          socket.close();
          setTimeout(() => {
            socket.terminate();
            resolve();
          }, 5_000).unref();
        }),
    ),
  );
  send({ type: "closed" });
});
