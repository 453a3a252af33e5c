import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, ErrorCode, type DurableClient } from "../../clients/index.js";
import { TokenPolicy } from "../../src/security/index.js";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";

const ADMIN = "admin-token-0123456789";
const APP = "hello-app-token-012345";

/**
 * Requests about an instance are checked against its orchestration's name. A token without a grant on
 * that name must learn nothing of the instance (not its name, not that it exists), and must not be able
 * to replace it by starting an orchestration it may start under the same instance id.
 */
describe.each(TRANSPORTS)("requests about instances of other orchestrations (%s)", (transport) => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let admin: DurableClient;
  let app: DurableClient;
  beforeAll(async () => {
    const access = TokenPolicy.fromTokens({
      tokens: {
        [ADMIN]: { name: "admin", grants: [{ entities: "*", actions: ["*"] }, { orchestrations: "*", actions: ["*"] }] },
        [APP]: { name: "app", grants: [{ orchestrations: "Hello*", actions: ["start", "status", "raise", "manage"] }] },
      },
    });
    server = await startTestServer(transport, { access });
    admin = await connect(server.url, { token: ADMIN });
    app = await connect(server.url, { token: APP });
    await admin.start("FanOutFanIn", 2, { instanceId: "payroll-run" });
    expect((await admin.waitForCompletion("payroll-run")).runtimeStatus).toBe("Completed");
  });
  afterAll(async () => {
    await app?.close();
    await admin?.close();
    await server?.stop();
  });

  it("answers a refused request about an existing instance as it answers one about a missing instance", async () => {
    const refusal = async (instanceId: string) => {
      const error = (await app.status(instanceId).catch((caught: unknown) => caught)) as { code: string; message: string };
      return { code: error.code, message: error.message.replace(instanceId, "<id>") };
    };
    const existing = await refusal("payroll-run");
    expect(existing.code).toBe(ErrorCode.forbidden);
    expect(existing.message).not.toContain("FanOutFanIn");
    expect(existing).toEqual(await refusal("no-such-run"));
    await expect(app.terminate("payroll-run")).rejects.toMatchObject({ code: ErrorCode.forbidden, message: expect.not.stringContaining("FanOutFanIn") });
  });

  it("refuses a start that would replace an instance of an orchestration the token may not start", async () => {
    const before = await admin.status("payroll-run");
    await expect(app.start("HelloSequence", undefined, { instanceId: "payroll-run" })).rejects.toMatchObject({ code: ErrorCode.forbidden, message: expect.not.stringContaining("FanOutFanIn") });
    const after = await admin.status("payroll-run");
    expect(after).toMatchObject({ name: "FanOutFanIn", runtimeStatus: "Completed", output: before!.output });
  });

  it("still lets a token start its own orchestration anew under a finished instance's id", async () => {
    const id = await app.start("HelloSequence", undefined, { instanceId: "hello-again" });
    await app.waitForCompletion(id);
    await app.start("HelloSequence", undefined, { instanceId: "hello-again" });
    expect((await app.waitForCompletion(id)).runtimeStatus).toBe("Completed");
  });
});
