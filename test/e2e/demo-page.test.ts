import { mkdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoRoutes } from "../../src/demo/demo-routes.js";
import { openBrowserHarness, type BrowserHarness } from "./support/chromium.js";

const ARTIFACTS = new URL("../../test-artifacts/", import.meta.url).pathname;

describe("the demo page in a real browser", () => {
  let harness: BrowserHarness;
  beforeAll(async () => {
    harness = await openBrowserHarness(demoRoutes({ demoPage: true }));
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it("shows changes signalled from Node at once, and its buttons change the server's state", async () => {
    const { browser, client, server } = harness;
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(`${server.url}/demo`);
    await page.locator("#status", { hasText: /^connected$/ }).waitFor({ timeout: 10_000 });
    await page.locator("#counter", { hasText: /^0$/ }).waitFor({ timeout: 5_000 });

    await client.signal("Counter/demo", "add", 5);
    await page.locator("#counter", { hasText: /^5$/ }).waitFor({ timeout: 5_000 });
    await client.signal("Stats/demo", "record", 42);
    await page.locator("#stats-count", { hasText: /^1$/ }).waitFor({ timeout: 5_000 });

    await page.click("#add-one");
    await page.locator("#counter", { hasText: /^6$/ }).waitFor({ timeout: 5_000 });
    expect(await client.get("Counter/demo")).toBe(6);
    await page.click("#record-random");
    await page.locator("#stats-count", { hasText: /^2$/ }).waitFor({ timeout: 5_000 });
    expect(await client.get<{ count: number }>("Stats/demo")).toMatchObject({ count: 2 });

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}demo-page.png`, fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it("serves the client as an ES module that a page can import", async () => {
    const { browser, server } = harness;
    const page = await browser.newPage();
    await page.goto(`${server.url}/healthz`);
    // A string, so the test runner's transform leaves the browser's own import() alone.
    const result = await page.evaluate(`(async () => {
      const { connect } = await import("${server.url}/client.js");
      const browserClient = await connect("${server.url}");
      const value = await browserClient.call("Counter/from-browser", "add", 3);
      await browserClient.close();
      return value;
    })()`);
    expect(result).toBe(3);
    await page.close();
  });
});
