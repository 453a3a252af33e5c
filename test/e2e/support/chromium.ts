import { chromium, type Browser } from "playwright-core";
import { connect, type ClientOptions, type DurableClient } from "../../../clients/index.js";
import type { HttpHandler, ServerOptions } from "../../../src/server/index.js";
import { startTestServer } from "../../integration/support/test-server.js";

/** Debian's Chromium, headless, with no network of its own (nothing is downloaded). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

/** A server (demo app, extra HTTP routes), a Node client of it, and a browser; `stop()` ends all three. */
export interface BrowserHarness {
  readonly server: Awaited<ReturnType<typeof startTestServer>>;
  readonly client: DurableClient;
  readonly browser: Browser;
  stop(): Promise<void>;
}

export async function openBrowserHarness(httpRoutes: Record<string, HttpHandler>, serverOptions: Partial<ServerOptions> = {}, clientOptions: ClientOptions = {}): Promise<BrowserHarness> {
  const server = await startTestServer("uws", { httpRoutes, ...serverOptions });
  const client = await connect(server.url, clientOptions);
  const browser = await launchChromium();
  return {
    server,
    client,
    browser,
    stop: async () => {
      await browser.close();
      await client.close();
      await server.stop();
    },
  };
}
