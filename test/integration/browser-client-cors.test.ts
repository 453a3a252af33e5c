import { describe, expect, it } from "vitest";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";

describe.each(TRANSPORTS)("the browser client over %s", (transport) => {
  it("serves /client.js and /client.js.map to any origin (CORS), also for HEAD", async () => {
    const server = await startTestServer(transport);
    try {
      for (const [path, type] of [["/client.js", "text/javascript; charset=utf-8"], ["/client.js.map", "application/json; charset=utf-8"]] as const) {
        for (const method of ["GET", "HEAD"]) {
          const response = await fetch(`${server.url}${path}`, { method, headers: { origin: "http://elsewhere.example" } });
          expect(response.status, `${method} ${path}`).toBe(200);
          expect(response.headers.get("access-control-allow-origin"), `${method} ${path}`).toBe("*");
          expect(response.headers.get("content-type"), `${method} ${path}`).toBe(type);
        }
      }
      const source = await (await fetch(`${server.url}/client.js`)).text();
      expect(source).toMatch(/\/\/# sourceMappingURL=client\.js\.map\s*$/);
      expect(await (await fetch(`${server.url}/client.js.map`)).json()).toMatchObject({ version: 3 });
      const other = await fetch(`${server.url}/healthz`, { headers: { origin: "http://elsewhere.example" } });
      expect(other.headers.get("access-control-allow-origin")).toBeNull(); // only the client's files
    } finally {
      await server.stop();
    }
  });
});
