import { defineConfig } from "vitest/config";
import base, { reporters } from "./vitest.config.js";

/**
 * The integration tests again, with every server a one-node cluster on NATS JetStream (as the suite
 * runs over both transports): cluster mode must serve everything that one process serves.
 */
export default defineConfig({
  test: {
    ...base.test,
    include: ["test/integration/**/*.test.ts"],
    exclude: [
      // Cluster tests run in the main run, with clusters of their own.
      "test/integration/cluster/**",
      // A full local disk: in a cluster the partition logs hold what is durable, and a node whose disk
      // cannot take its copy catches up from them (or stops, and another node takes over), which these
      // tests of a single server's disk do not describe.
      "test/integration/out-of-disk.test.ts",
      "test/integration/out-of-disk-close.test.ts",
    ],
    globalSetup: ["test/conformance/one-node-cluster-setup.ts"],
    reporters: reporters("cluster-conformance"),
  },
});
