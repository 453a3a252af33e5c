import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openBrowserHarness, type BrowserHarness } from "./support/chromium.js";

const PAGE = `<!doctype html><html><body><div id="root"></div><script type="module" src="/react-page.js"></script></body></html>`;

describe("useEntityState in a real React page", () => {
  let harness: BrowserHarness;
  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [new URL("./fixtures/react-page.js", import.meta.url).pathname],
      bundle: true,
      format: "esm",
      platform: "browser",
      external: ["ws"],
      write: false,
      define: { "process.env.NODE_ENV": '"production"' },
      logLevel: "warning",
    });
    const script = bundle.outputFiles[0]!.text;
    harness = await openBrowserHarness({
      "GET /react": async () => ({ status: 200, headers: { "content-type": "text/html" }, body: PAGE }),
      "GET /react-page.js": async () => ({ status: 200, headers: { "content-type": "text/javascript" }, body: script }),
    });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it("renders the snapshot, then re-renders on every committed change", async () => {
    const { browser, client, server } = harness;
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${server.url}/react`);
    await page.locator("#react-counter", { hasText: "0 @ v0" }).waitFor({ timeout: 10_000 });
    await client.signal("Counter/react", "add", 4);
    await page.locator("#react-counter", { hasText: "4 @ v1" }).waitFor({ timeout: 5_000 });
    await client.signal("Counter/react", "add", 3);
    await page.locator("#react-counter", { hasText: "7 @ v2" }).waitFor({ timeout: 5_000 });
    expect(errors).toEqual([]);
    await page.close();
  });
});
