import { resolveClientOptions, type ClientOptions } from "./client-options.js";
import type { DurableClient } from "./client-api.js";
import { DurableClientSession } from "./durable-client.js";
import { toWebSocketUrl } from "./web-socket.js";

/**
 * Connects to a durable-entities server (`http://host:port`, or its `ws://host:port/ws` URL) and
 * resolves once the server welcomed the client. Rejects with an EntityError: `disconnected` when no
 * connection could be made within `connectTimeoutMs`, or the server's code (e.g. `unsupported_version`).
 *
 * Given the URLs of several nodes of a cluster, it connects to the first that answers, and when a
 * connection drops it reconnects to the next (resending what was not answered, as always).
 */
export async function connect(url: string | readonly string[], options?: ClientOptions): Promise<DurableClient> {
  const urls = typeof url === "string" ? [url] : url;
  if (urls.length === 0) throw new TypeError("connect() needs a server URL (or a list of a cluster's node URLs)");
  const client = new DurableClientSession(urls.map(toWebSocketUrl), resolveClientOptions(options));
  await client.open();
  return client;
}
