import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { demoRoutes } from "../../src/demo/demo-routes.js";
import { freePort, startTestServer, tempDataDir } from "../integration/support/test-server.js";
import { launchChromium } from "./support/chromium.js";

describe("the demo page's connection state and small things", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("says disconnected within seconds of the server stopping, and connected again when it is back", async () => {
    const data = tempDataDir();
    const port = await freePort();
    const start = () => startTestServer("uws", { dataDir: data.path, port, httpRoutes: demoRoutes({ demoPage: true }) });
    let server = await start();
    const page = await browser.newPage();
    try {
      await page.goto(`${server.url}/demo`);
      const status = page.locator("#status");
      await status.filter({ hasText: /^connected$/ }).waitFor({ timeout: 10_000 });

      await server.close();
      const stoppedAt = Date.now();
      await status.filter({ hasText: /^disconnected/ }).waitFor({ timeout: 5_000 });
      expect(Date.now() - stoppedAt).toBeLessThan(5_000);
      expect(await status.getAttribute("data-state")).toBe("disconnected");

      server = await start();
      await status.filter({ hasText: /^connected$/ }).waitFor({ timeout: 15_000 });
      expect(await status.getAttribute("data-state")).toBe("connected");
    } finally {
      await page.close();
      await server.close();
      data.cleanup();
    }
  });

  // Browsers ask for /favicon.ico when a page declares no icon (headless Chromium skips it, so the check is on
  // what the page declares): either the page names one, or /favicon.ico exists.
  it("gives a browser no reason to request /favicon.ico and get a 404", async () => {
    const server = await startTestServer("uws", { httpRoutes: demoRoutes({ demoPage: true }) });
    const page = await browser.newPage();
    const requested: string[] = [];
    const failed: string[] = [];
    page.on("request", (request) => requested.push(new URL(request.url()).pathname));
    page.on("response", (response) => {
      if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
    });
    try {
      await page.goto(`${server.url}/demo`);
      await page.locator("#status", { hasText: /^connected$/ }).waitFor({ timeout: 10_000 });
      await page.waitForLoadState("networkidle");
      expect(requested).toContain("/client.js");
      const declared = await page.locator('link[rel~="icon"]').count();
      const served = (await fetch(`${server.url}/favicon.ico`)).status;
      expect(declared > 0 || served === 200, `icons declared: ${declared}; GET /favicon.ico: ${served}`).toBe(true);
      expect(requested).not.toContain("/favicon.ico");
      expect(failed).toEqual([]);
    } finally {
      await page.close();
      await server.stop();
    }
  });

  it("shows a reset Stats as count 0 and sum 0, not a dash", async () => {
    const server = await startTestServer("uws", { httpRoutes: demoRoutes({ demoPage: true }) });
    const page = await browser.newPage();
    try {
      await page.goto(`${server.url}/demo`);
      await page.locator("#status", { hasText: /^connected$/ }).waitFor({ timeout: 10_000 });
      await page.click("#record-random");
      await page.locator("#stats-count", { hasText: /^1$/ }).waitFor({ timeout: 5_000 });
      await page.click("#reset-stats");
      await page.locator("#stats-count", { hasText: /^0$/ }).waitFor({ timeout: 5_000 });
      expect(await page.locator("#stats-sum").textContent()).toBe("0");
      expect(await page.locator("#stats-min").textContent()).toBe("–"); // no values: no minimum
    } finally {
      await page.close();
      await server.stop();
    }
  });
});
