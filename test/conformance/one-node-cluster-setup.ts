import { startNatsServer, type NatsServers } from "../support/nats-servers.js";

/**
 * The cluster conformance run: one nats-server for the whole run; every test server becomes a one-node
 * cluster on it (see conformanceCluster in test/integration/support/test-server.ts).
 */
let nats: NatsServers | undefined;

export async function setup(): Promise<void> {
  nats = await startNatsServer();
  process.env.DE_TEST_CLUSTER = nats.urls[0];
}

export async function teardown(): Promise<void> {
  await nats?.stop();
}
