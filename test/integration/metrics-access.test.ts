import { request as httpRequest } from "node:http";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TokenPolicy } from "../../src/security/index.js";
import { startTestServer, tempDataDir, TRANSPORTS } from "./support/test-server.js";

/** /metrics and /api/health at the door. These held (they pass); kept as regression tests. */

function raw(url: string, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const target = new URL(path, url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: target.hostname, port: target.port, method, path: target.pathname + target.search, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

const ADMIN = "review-admin-token-012345";
const SCRAPER = "review-scraper-token-01234";

describe.each(TRANSPORTS)("/metrics and /api/health at the door (%s)", (transport) => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let file: string;
  const dir = tempDataDir();

  beforeAll(async () => {
    file = join(dir.path, "tokens.json");
    writeFileSync(
      file,
      JSON.stringify({
        tokens: {
          [ADMIN]: { name: "admin", grants: [{ entities: "*", actions: ["*"] }, { orchestrations: "*", actions: ["*"] }] },
          [SCRAPER]: { name: "prometheus", grants: [{ entities: "*", actions: ["read"] }, { orchestrations: "*", actions: ["status"] }] },
        },
      }),
    );
    server = await startTestServer(transport, { dataDir: join(dir.path, "data"), access: await TokenPolicy.fromFile(file) });
  });
  afterAll(async () => {
    await server?.close();
    dir.cleanup();
  });

  it("HEAD /metrics answers headers only", async () => {
    const head = await raw(server.url, "HEAD", "/metrics", { authorization: `Bearer ${SCRAPER}` });
    expect(head.status).toBe(200);
    expect(head.body).toBe("");
  });

  it("a token query parameter works for /metrics like the Authorization header", async () => {
    expect((await raw(server.url, "GET", `/metrics?token=${SCRAPER}`)).status).toBe(200);
  });

  it("a huge Accept header is harmless", async () => {
    const response = await raw(server.url, "GET", "/metrics", { authorization: `Bearer ${SCRAPER}`, accept: "application/openmetrics-text;version=1.0.0,".repeat(300) });
    expect([200, 431]).toContain(response.status);
  });

  it("/api/health needs the token", async () => {
    expect((await raw(server.url, "GET", "/api/health")).status).toBe(401);
    const ok = await raw(server.url, "GET", "/api/health", { authorization: `Bearer ${SCRAPER}` });
    expect(ok.status).toBe(200);
    expect(ok.headers["cache-control"]).toBe("no-store");
    expect(ok.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("a cross-origin GET gets no CORS header that would let a page read it", async () => {
    const response = await raw(server.url, "GET", "/metrics", { authorization: `Bearer ${SCRAPER}`, origin: "https://evil.example" });
    expect(response.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("after a reload that revokes the scraper's token, /metrics and /api/health refuse it", async () => {
    writeFileSync(file, JSON.stringify({ tokens: { [ADMIN]: { name: "admin", grants: [{ entities: "*", actions: ["*"] }, { orchestrations: "*", actions: ["*"] }] } } }));
    await server.reloadAccess();
    expect((await raw(server.url, "GET", "/metrics", { authorization: `Bearer ${SCRAPER}` })).status).toBe(401);
    expect((await raw(server.url, "GET", "/api/health", { authorization: `Bearer ${SCRAPER}` })).status).toBe(401);
    expect((await raw(server.url, "GET", "/metrics", { authorization: `Bearer ${ADMIN}` })).status).toBe(200);
  });
});
