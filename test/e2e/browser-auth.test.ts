import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoRoutes } from "../../src/demo/demo-routes.js";
import { TokenPolicy } from "../../src/security/index.js";
import { openBrowserHarness, type BrowserHarness } from "./support/chromium.js";

const ADMIN = "admin-token-0123456789";
const VIEWER = "viewer-token-0123456789";
/** A token with characters a WebSocket protocol value cannot hold: it travels as a query parameter. */
const ODD = "odd/token+with=chars,1";

/** A page (served by the server itself) that subscribes with a token and shows what it sees, or why it could not. */
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>token page</title></head>
<body><p id="result">loading…</p>
<script type="module">
  const result = document.getElementById("result");
  const token = new URLSearchParams(location.search).get("use");
  try {
    const { connect } = await import("/client.js");
    const client = await connect(location.origin, { token, connectTimeoutMs: 3000 });
    const subscription = client.subscribe("Stats/page-views", (state) => {
      if (state) result.textContent = "count " + state.count;
    });
    await subscription.ready;
    try {
      await client.signal("Stats/page-views", "record", 1);
      result.dataset.signal = "allowed";
    } catch (error) {
      result.dataset.signal = error.code;
    }
  } catch (error) {
    result.textContent = "failed: " + error.code;
  }
</script></body></html>`;

describe("a browser with a token", () => {
  let harness: BrowserHarness;
  beforeAll(async () => {
    const access = TokenPolicy.fromTokens({
      tokens: {
        [ADMIN]: { name: "admin", grants: [{ entities: "*", actions: ["*"] }] },
        [VIEWER]: { name: "viewer", grants: [{ entities: "Stats/page-views", actions: ["subscribe", "read"] }] },
        [ODD]: { name: "odd", grants: [{ entities: "Stats/*", actions: ["subscribe"] }] },
      },
    });
    harness = await openBrowserHarness(
      { "GET /token-page": async () => ({ status: 200, headers: { "content-type": "text/html; charset=utf-8" }, body: PAGE }), ...demoRoutes({ demoPage: true }) },
      { access },
      { token: ADMIN },
    );
    await harness.client.signal("Stats/page-views", "record", 10);
  });
  afterAll(async () => {
    await harness?.stop();
  });

  async function open(pageToken: string, socketToken: string | undefined): Promise<{ text: string | null; signal: string | undefined }> {
    const page = await harness.browser.newPage();
    try {
      const use = socketToken === undefined ? "" : `&use=${encodeURIComponent(socketToken)}`;
      await page.goto(`${harness.server.url}/token-page?token=${encodeURIComponent(pageToken)}${use}`);
      const result = page.locator("#result", { hasText: /^(count|failed)/ });
      await result.waitFor({ timeout: 15_000 });
      if ((await result.textContent())?.startsWith("count")) await page.locator("#result[data-signal]").waitFor({ timeout: 15_000 });
      return { text: await result.textContent(), signal: (await page.locator("#result").getAttribute("data-signal")) ?? undefined };
    } finally {
      await page.close();
    }
  }

  it("watches the one aggregate its token allows, and is refused a signal (token as a WebSocket protocol value)", async () => {
    expect(await open(VIEWER, VIEWER)).toEqual({ text: "count 1", signal: "forbidden" });
    expect(await harness.client.get("Stats/page-views")).toMatchObject({ count: 1 });
  });

  it("carries a token a protocol value cannot hold as a query parameter", async () => {
    expect(await open(VIEWER, ODD)).toEqual({ text: "count 1", signal: "forbidden" });
  });

  it("opens the demo page with ?token= and connects with the same token", async () => {
    const page = await harness.browser.newPage();
    try {
      await page.goto(`${harness.server.url}/demo?token=${ADMIN}`);
      await page.locator('[data-state="connected"]').waitFor({ timeout: 15_000 });
    } finally {
      await page.close();
    }
  });

  it("cannot connect without a token", async () => {
    expect(await open(VIEWER, undefined)).toEqual({ text: "failed: disconnected", signal: undefined });
  });
});
