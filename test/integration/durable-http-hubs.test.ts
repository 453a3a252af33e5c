import { describe, expect, it } from "vitest";
import { connect } from "../../clients/index.js";
import * as app from "../fixtures/durable-http-app.js";
import { durableApi } from "./support/durable-http.js";
import { startTestServer, tempDataDir } from "./support/test-server.js";

describe("Durable Functions' HTTP API across task hubs", () => {
  it("keeps different state for the same entity id and the same instance id in two hubs side by side", async () => {
    const server = await startTestServer("uws", { app });
    try {
      const api = durableApi(server.url);
      expect((await api.post("/entities/Counter/shared?op=add", { json: 1 })).status).toBe(202);
      expect((await api.post("/entities/Counter/shared?op=add&taskHub=Blue", { json: 10 })).status).toBe(202);
      expect((await api.get("/entities/Counter/shared")).body).toBe(1);
      expect((await api.get("/entities/Counter/shared?taskHub=blue")).body).toBe(10);
      expect((await api.get("/entities/Counter/shared?taskHub=default")).body).toBe(1);

      const inDefault = await api.post("/orchestrators/Echo/same-id?timeout=10", { json: "default's" });
      expect(inDefault).toMatchObject({ status: 200, body: "default's" });
      const inBlue = await api.post("/orchestrators/Echo/same-id?taskHub=blue", { json: "blue's" });
      expect(inBlue.status).toBe(202);
      expect(inBlue.body.statusQueryGetUri).toBe(`${api.base}/instances/same-id?taskHub=blue`); // links carry the hub
      expect(inBlue.body.terminatePostUri).toBe(`${api.base}/instances/same-id/terminate?reason={text}&taskHub=blue`);
      const blueDone = await api.pollUntilDone(inBlue.body.statusQueryGetUri);
      expect(blueDone.body).toMatchObject({ instanceId: "same-id", output: "blue's" });
      expect((await api.get("/instances/same-id")).body.output).toBe("default's");
      const blueList = await api.get("/instances?taskHub=blue");
      expect((blueList.body as Array<{ instanceId: string }>).map((status) => status.instanceId)).toEqual(["same-id"]);

      // The WebSocket client in that hub sees what HTTP did there.
      const blue = await connect(server.url, { hub: "blue" });
      try {
        expect(await blue.get("Counter/shared")).toBe(10);
        expect(await blue.status("same-id")).toMatchObject({ output: "blue's" });
      } finally {
        await blue.close();
      }
      expect((await api.delete("/instances/same-id?taskHub=blue")).status).toBe(200);
      expect((await api.get("/instances/same-id")).status).toBe(200); // the default hub's is still there
    } finally {
      await server.stop();
    }
  });

  it("two servers on one data directory serve two hubs; a hub the other server holds answers 503", async () => {
    const dir = tempDataDir();
    const first = await startTestServer("uws", { app, dataDir: dir.path });
    const second = await startTestServer("ws", { app, dataDir: dir.path, hub: "green" });
    try {
      const a = durableApi(first.url);
      const b = durableApi(second.url);
      expect((await b.post("/entities/Counter/x?op=add", { json: 7 })).status).toBe(202); // the second server's own hub: green
      expect((await b.get("/entities/Counter/x?taskHub=green")).body).toBe(7);
      expect((await a.get("/entities/Counter/x")).status).toBe(404);
      const held = await a.get("/entities/Counter/x?taskHub=green");
      expect(held.status).toBe(503);
      expect(held.body).toMatchObject({ error: "hub_unavailable", message: expect.stringMatching(/another server/) });
      const started = await b.post("/orchestrators/HelloSequence");
      expect(started.body.statusQueryGetUri).toContain("taskHub=green");
      expect((await b.pollUntilDone(started.body.statusQueryGetUri)).status).toBe(200);
    } finally {
      await second.stop();
      await first.stop();
      dir.cleanup();
    }
  });
});
