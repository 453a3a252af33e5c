import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TokenPolicy } from "../../src/security/index.js";
import { startTestServer } from "./support/test-server.js";

const TOKEN = "dashboard-token-0123456789";

describe("the dashboard's routes", () => {
  const site = mkdtempSync(join(tmpdir(), "durable-entities-site-"));
  writeFileSync(join(site, "index.html"), "<p>my page</p>");
  afterAll(() => rmSync(site, { recursive: true, force: true }));

  it("serves the page at / and /dashboard/, and its built script and style", async () => {
    const server = await startTestServer("ws");
    try {
      for (const path of ["/", "/dashboard/", "/dashboard"]) {
        const page = await fetch(`${server.url}${path}`);
        expect([path, page.status, page.headers.get("content-type")]).toEqual([path, 200, "text/html; charset=utf-8"]);
        expect(await page.text()).toContain('<script type="module" src="/dashboard/dashboard.js">');
      }
      const script = await fetch(`${server.url}/dashboard/dashboard.js`);
      expect([script.status, script.headers.get("content-type")]).toEqual([200, "text/javascript; charset=utf-8"]);
      const style = await fetch(`${server.url}/dashboard/dashboard.css`);
      expect([style.status, style.headers.get("content-type")]).toEqual([200, "text/css; charset=utf-8"]);
    } finally {
      await server.stop();
    }
  });

  it("with a static directory, leaves / to its index.html and serves the dashboard at /dashboard/", async () => {
    const server = await startTestServer("ws", { staticDir: site });
    try {
      expect(await (await fetch(`${server.url}/`)).text()).toBe("<p>my page</p>");
      expect(await (await fetch(`${server.url}/dashboard/`)).text()).toContain("/dashboard/dashboard.js");
    } finally {
      await server.stop();
    }
  });

  it("puts the page behind the server's authentication; the code holds no secrets and is served to anyone", async () => {
    const access = TokenPolicy.fromTokens({ tokens: { [TOKEN]: { name: "admin", grants: [{ entities: "*", actions: ["*"] }] } } });
    const server = await startTestServer("ws", { access });
    try {
      expect((await fetch(`${server.url}/`)).status).toBe(401);
      expect((await fetch(`${server.url}/dashboard/`)).status).toBe(401);
      expect((await fetch(`${server.url}/?token=${TOKEN}`)).status).toBe(200);
      expect((await fetch(`${server.url}/dashboard/dashboard.js`)).status).toBe(200);
      // The Health view's samples: any valid token, sent as the page sends it.
      expect((await fetch(`${server.url}/api/health`)).status).toBe(401);
      const health = await fetch(`${server.url}/api/health`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect([health.status, health.headers.get("cache-control")]).toEqual([200, "no-store"]);
      expect(await health.json()).toMatchObject({ intervalMs: 1000, samples: expect.any(Array) });
    } finally {
      await server.stop();
    }
  });

  it("can be turned off", async () => {
    const server = await startTestServer("ws", { dashboard: false });
    try {
      expect((await fetch(`${server.url}/`)).status).toBe(404);
      expect((await fetch(`${server.url}/dashboard/dashboard.js`)).status).toBe(404);
    } finally {
      await server.stop();
    }
  });
});
