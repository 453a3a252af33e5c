import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openBrowserHarness, type BrowserHarness } from "./support/chromium.js";

/** A page of another origin (its own server and port) that imports the server's /client.js and calls an entity. */
function otherOriginPage(serverUrl: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>another origin</title></head>
<body><p id="result">loading…</p>
<script type="module">
  const result = document.getElementById("result");
  try {
    const { connect } = await import("${serverUrl}/client.js");
    const client = await connect("${serverUrl}");
    const value = await client.call("Counter/cross-origin", "add", 7);
    const map = await fetch("${serverUrl}/client.js.map").then((response) => response.json());
    await client.close();
    result.textContent = "value " + value + ", source map version " + map.version;
  } catch (error) {
    result.textContent = "failed: " + error.message;
  }
</script></body></html>`;
}

describe("a page on another origin", () => {
  let harness: BrowserHarness;
  let site: Server;
  let siteUrl: string;
  beforeAll(async () => {
    site = createServer((_request, response) => response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(otherOriginPage(harness.server.url)));
    await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
    siteUrl = `http://127.0.0.1:${(site.address() as { port: number }).port}/`;
    // Browsers apply no CORS to WebSockets: the server takes upgrades from other origins only when allowed.
    harness = await openBrowserHarness({}, { allowedOrigins: [siteUrl] });
  });
  afterAll(async () => {
    await new Promise((resolve) => site?.close(resolve));
    await harness?.stop();
  });

  it("imports /client.js and its source map from the server (CORS) and calls an entity", async () => {
    const page = await harness.browser.newPage();
    const consoleErrors: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    await page.goto(siteUrl);
    await page.locator("#result", { hasText: /^(value|failed)/ }).waitFor({ timeout: 15_000 });
    expect(await page.locator("#result").textContent()).toBe("value 7, source map version 3");
    expect(consoleErrors).toEqual([]);
    expect(await harness.client.get("Counter/cross-origin")).toBe(7);
    await page.close();
  });
});
