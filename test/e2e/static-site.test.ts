import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { startTestServer } from "../integration/support/test-server.js";
import { launchChromium } from "./support/chromium.js";

const APP_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><link rel="stylesheet" href="style.css"><title>my app</title></head>
<body><p id="result">loading…</p>
<script type="module">
  import { connect } from "/client.js";
  const client = await connect(location.origin);
  document.getElementById("result").textContent = "count " + (await client.call("Counter/static-page", "add", 2));
</script></body></html>`;

describe.each(["uws", "ws"] as const)("a page of the user's served with --static over %s", (transport) => {
  const root = mkdtempSync(join(tmpdir(), "durable-entities-static-e2e-"));
  let browser: Browser;
  let server: Awaited<ReturnType<typeof startTestServer>>;
  beforeAll(async () => {
    mkdirSync(join(root, "app"));
    writeFileSync(join(root, "app", "index.html"), APP_PAGE);
    writeFileSync(join(root, "app", "style.css"), "#result { color: rgb(0, 128, 0); }");
    server = await startTestServer(transport, { staticDir: root });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it("follows /app to /app/, loads the page and its stylesheet, talks to the server, and revalidates on reload", async () => {
    const page = await browser.newPage();
    const statuses: string[] = [];
    page.on("response", (response) => statuses.push(`${response.status()} ${new URL(response.url()).pathname}`));
    await page.goto(`${server.url}/app`);
    expect(new URL(page.url()).pathname).toBe("/app/");
    await page.locator("#result", { hasText: /^count 2$/ }).waitFor({ timeout: 10_000 });
    expect(await page.locator("#result").evaluate((element) => getComputedStyle(element).color)).toBe("rgb(0, 128, 0)");
    expect(statuses).toEqual(expect.arrayContaining(["301 /app", "200 /app/", "200 /app/style.css", "200 /client.js"]));

    // On reload the browser revalidates with the ETag (it reports the 304 it gets as the cached 200).
    const revalidation = page.waitForRequest((request) => new URL(request.url()).pathname === "/app/");
    await page.reload();
    expect((await (await revalidation).allHeaders())["if-none-match"]).toMatch(/^W\/".+"$/);
    await page.locator("#result", { hasText: /^count 4$/ }).waitFor({ timeout: 10_000 });
    await page.close();
  });
});
