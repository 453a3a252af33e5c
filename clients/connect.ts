import { resolveClientOptions, type ClientOptions } from "./client-options.js";
import type { DurableClient } from "./client-api.js";
import { DurableClientSession } from "./durable-client.js";
import { toWebSocketUrl } from "./web-socket.js";

/**
 * Connects to a durable-entities server (`http://host:port`, or its `ws://host:port/ws` URL) and
 * resolves once the server welcomed the client. Rejects with an EntityError: `disconnected` when no
 * connection could be made within `connectTimeoutMs`, or the server's code (e.g. `unsupported_version`).
 */
export async function connect(url: string, options?: ClientOptions): Promise<DurableClient> {
  const client = new DurableClientSession(toWebSocketUrl(url), resolveClientOptions(options));
  await client.open();
  return client;
}
