/**
 * The echo peer of live-state's round-trip floor probe: a `ws` server on loopback that sends every
 * message straight back, as it came (no parsing, no storage). What the sequential caller's round trip
 * costs on this machine without our server in the way; see `round-trip-probe.ts`.
 */
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { runWorker, send } from "./ipc.js";

runWorker(async () => {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  server.on("connection", (socket) => {
    socket.on("message", (data: Buffer, isBinary: boolean) => socket.send(data, { binary: isBinary }));
  });
  const { port } = server.address() as AddressInfo;
  send({ type: "ready", url: `ws://127.0.0.1:${port}` });
});
