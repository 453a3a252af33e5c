import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { connect } from "../../clients/index.js";
import { createLogger } from "../../src/log.js";
import { TokenPolicy } from "../../src/security/index.js";
import { startTestServer, freePort, tempDataDir } from "../integration/support/test-server.js";
import { launchChromium } from "./support/chromium.js";

/**
 * The Health view on a server with --auth, across a server restart (close, then a new server on the same
 * port and data), on both transports: the closed server's open keep-alive connections get no more
 * answers from it (see test/integration/uws-close-keepalive.test.ts), so the view's poll, every 2 s,
 * shows an error while the server is down and the new server's samples once it is back.
 */

const ADMIN = "health-view-admin-token-0";
const WAIT = { timeout: 15_000 };

describe.each(["ws", "uws"] as const)("the Health view (%s)", (TRANSPORT) => {
  let browser: Browser;
  const dir = tempDataDir();
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    dir.cleanup();
  });

  it("reads /api/health with the page's ?token=, and picks up again after the server restarts", async () => {
    const port = await freePort();
    const access = () => TokenPolicy.fromTokens({ tokens: { [ADMIN]: { name: "admin", grants: [{ entities: "*", actions: ["*"] }, { orchestrations: "*", actions: ["*"] }] } } });
    const options = { dataDir: dir.path, port, access: access(), log: createLogger("error") };
    let server = await startTestServer(TRANSPORT, options);
    const page = await browser.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(`${server.url}/?token=${ADMIN}#/health`);
    await page.locator("[data-testid=health-connections][data-value]").waitFor(WAIT);
    expect(await page.locator("[data-testid=health-message] .error").count()).toBe(0);

    await server.close();
    await page.locator("[data-testid=health-message] .error").waitFor(WAIT); // the poll fails while the server is down
    server = await startTestServer(TRANSPORT, { ...options, access: access() });
    try {
      // The view polls again and shows the new server's samples: the error goes, values come back.
      await page.locator("[data-testid=health-message]:not(:has(.error))").waitFor(WAIT);
      const client = await connect(server.url, { token: ADMIN });
      try {
        let shown = false;
        const load = (async () => {
          while (!shown) await Promise.all(Array.from({ length: 50 }, () => client.signal("Counter/health", "add", 1)));
        })();
        try {
          await page.locator("[data-testid=health-operations][data-value]:not([data-value='0'])").waitFor(WAIT);
        } finally {
          shown = true;
          await load;
        }
      } finally {
        await client.close();
      }
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
      await server.close();
    }
  }, 60_000);
});
