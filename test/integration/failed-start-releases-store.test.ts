import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as demoApp from "../../src/demo/app.js";
import { createLogger } from "../../src/log.js";
import { startServer } from "../../src/server/index.js";
import { tempDataDir } from "./support/test-server.js";

/**
 * A server whose TLS files are wrong refuses to start with a message saying so; the start it refused
 * must not keep the data directory's store open (its lock), or the corrected start in the same process
 * (an embedding app, a test harness) finds the directory "in use".
 */
describe("a start refused for its TLS files", () => {
  it("leaves the data directory free for the next start", async () => {
    const dir = tempDataDir();
    try {
      const notPem = join(dir.path, "not-a-cert.pem");
      writeFileSync(notPem, "not a certificate\n");
      for (const tls of [{ certFile: join(dir.path, "missing.pem"), keyFile: join(dir.path, "missing.key") }, { certFile: notPem, keyFile: notPem }]) {
        await expect(startServer({ app: demoApp, dataDir: dir.path, port: 0, transport: "ws", tls, log: createLogger("silent") })).rejects.toThrow(/TLS/);
      }
      const server = await startServer({ app: demoApp, dataDir: dir.path, port: 0, transport: "ws", log: createLogger("silent") });
      await server.close();
    } finally {
      dir.cleanup();
    }
  });
});
