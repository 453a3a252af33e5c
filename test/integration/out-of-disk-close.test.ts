import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../clients/index.js";
import * as demoApp from "../../src/demo/app.js";
import { defineEntity } from "../../src/runtime/index.js";
import { fillFileSystem, mountSmallFileSystem, whyCannotMount, type SmallFileSystem } from "../support/small-file-system.js";
import { startTestServer } from "./support/test-server.js";

/*
 * Shutting down (server.close(), which SIGTERM and SIGINT call) while the disk is full, with durable
 * work due that can never be written: close() ends within a bound, leaving that work in the store for
 * the next start (it does not retry until there is room; the store closes though its last LMDB
 * transaction failed). Needs root (mount), as .ci/run has.
 */

const Blob = defineEntity("Blob", {
  initialState: () => "",
  operations: {
    put: (ctx, text: string) => {
      ctx.state = text;
    },
  },
});

const app = { ...demoApp, Blob };
const MOUNT_SIZE_MB = 24;

const cannotMount = whyCannotMount("tmpfs");

describe.skipIf(cannotMount !== undefined)("closing a server whose disk is full", () => {
  let fileSystem: SmallFileSystem;
  beforeAll(() => (fileSystem = mountSmallFileSystem("tmpfs", MOUNT_SIZE_MB)));
  afterAll(() => fileSystem?.remove());

  it("finishes within a bound (what cannot be written stays for the next start) instead of retrying until there is room", async () => {
    const dataDir = join(fileSystem.mountPoint, "data");
    mkdirSync(dataDir);
    const server = await startTestServer("ws", { app, dataDir, onFatal: () => {} });
    const client = await connect(server.url);
    const dueAt = Date.now() + 1_500;
    for (let i = 0; i < 6; i++) await client.signal(`Blob/b${i}`, "put", `${i}`.repeat(200_000), { at: dueAt });
    await client.close();
    fillFileSystem(fileSystem.mountPoint);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, dueAt - Date.now()) + 500)); // due, and refused
    const started = Date.now();
    const closed = server.close().then(() => "closed" as const);
    const outcome = await Promise.race([closed, new Promise<"still closing">((resolve) => setTimeout(() => resolve("still closing"), 10_000))]);
    const waitedMs = Date.now() - started;
    rmSync(join(fileSystem.mountPoint, "filler")); // room again
    // Even with room again, close() may never end: once the pipeline has closed, nothing commits, and the
    // store's close waits for the flush of the last (failed) LMDB transaction (lmdb-store-full-disk).
    const afterRoom = await Promise.race([closed, new Promise<"still closing">((resolve) => setTimeout(() => resolve("still closing"), 5_000))]);
    expect({ outcome, afterRoom }, `close() waited ${waitedMs} ms with the disk full`).toEqual({ outcome: "closed", afterRoom: "closed" });
  }, 60_000);
});
