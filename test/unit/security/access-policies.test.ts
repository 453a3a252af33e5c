import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../../src/log.js";
import { AppHooksPolicy, OriginPolicy, requestToken, TokenPolicy, type AuthRequest } from "../../../src/security/index.js";
import { makeTempDir, removeDir } from "../support/temp-dir.js";

const TOKENS = {
  tokens: {
    "s3cr3t-admin-0123456789": { name: "admin", grants: [{ entities: "*", actions: ["*"] }, { orchestrations: "*", actions: ["*"] }] },
    "page-viewer-0123456789": { name: "viewer", grants: [{ entities: "Stats/page-views", actions: ["subscribe", "read"] }] },
    "counter-app-0123456789": { name: "app", grants: [{ entities: "Counter/*", actions: ["signal", "call", "read"] }, { orchestrations: "Order*", actions: ["start", "status"] }] },
  },
} as const;

function request(token: string | undefined): AuthRequest {
  return { method: "GET", path: "/ws", query: "", headers: {}, token };
}

describe("the tokens policy", () => {
  const policy = TokenPolicy.fromTokens(TOKENS as never);

  it("knows its tokens and nothing else", () => {
    expect(policy.authenticate(request("s3cr3t-admin-0123456789"))?.name).toBe("admin");
    expect(policy.authenticate(request("counter-app-0123456789"))?.name).toBe("app");
    expect(policy.authenticate(request("counter-app-012345678"))).toBeUndefined(); // one character short
    expect(policy.authenticate(request("counter-app-0123456789 "))).toBeUndefined();
    expect(policy.authenticate(request(undefined))).toBeUndefined();
  });

  it("grants by entity pattern and action", () => {
    const app = policy.authenticate(request("counter-app-0123456789"))!;
    const viewer = policy.authenticate(request("page-viewer-0123456789"))!;
    const admin = policy.authenticate(request("s3cr3t-admin-0123456789"))!;
    expect(policy.authorize(app, "signal", { kind: "entity", id: "Counter/alice" })).toBe(true);
    expect(policy.authorize(app, "subscribe", { kind: "entity", id: "Counter/alice" })).toBe(false);
    expect(policy.authorize(app, "signal", { kind: "entity", id: "Stats/x" })).toBe(false);
    expect(policy.authorize(app, "signal", { kind: "entity", id: "Counterfeit/x" })).toBe(false); // Counter/* is not Counter*
    expect(policy.authorize(app, "read", { kind: "entities", type: "Counter" })).toBe(true);
    expect(policy.authorize(app, "read", { kind: "entities", type: "Stats" })).toBe(false);
    expect(policy.authorize(app, "read", { kind: "all-entities" })).toBe(false);
    expect(policy.authorize(viewer, "subscribe", { kind: "entity", id: "Stats/page-views" })).toBe(true);
    expect(policy.authorize(viewer, "read", { kind: "entity", id: "Stats/page-views-2" })).toBe(false); // exact id
    expect(policy.authorize(viewer, "read", { kind: "entities", type: "Stats", prefix: "page-views" })).toBe(false); // a listing needs a pattern
    expect(policy.authorize(admin, "signal", { kind: "all-entities" })).toBe(true);
  });

  it("grants by orchestration name pattern, and keeps entity and orchestration grants apart", () => {
    const app = policy.authenticate(request("counter-app-0123456789"))!;
    const viewer = policy.authenticate(request("page-viewer-0123456789"))!;
    expect(policy.authorize(app, "start", { kind: "orchestration", name: "OrderSaga" })).toBe(true);
    expect(policy.authorize(app, "manage", { kind: "orchestration", name: "OrderSaga" })).toBe(false);
    expect(policy.authorize(app, "start", { kind: "orchestration", name: "HelloSequence" })).toBe(false);
    expect(policy.authorize(app, "status", { kind: "orchestration", name: "*" })).toBe(false); // any instance: needs a grant on *
    expect(policy.authorize(viewer, "status", { kind: "orchestration", name: "OrderSaga" })).toBe(false);
  });

  it("reads a tokens file, refuses a bad one with where and why, and keeps the tokens in force when a reload fails", async () => {
    const dir = makeTempDir();
    try {
      const file = join(dir, "tokens.json");
      writeFileSync(file, JSON.stringify(TOKENS));
      const fromFile = await TokenPolicy.fromFile(file);
      expect(fromFile.authenticate(request("page-viewer-0123456789"))?.name).toBe("viewer");
      writeFileSync(file, JSON.stringify({ tokens: { "short": { name: "x", grants: [] } } }));
      await expect(fromFile.reload()).rejects.toThrow(/tokens file .* not valid at tokens\."shor…": a token must be at least 16 characters/);
      expect(fromFile.authenticate(request("page-viewer-0123456789"))?.name).toBe("viewer");
      writeFileSync(file, JSON.stringify({ tokens: { "new-token-0123456789": { name: "new", grants: [{ entities: "*", actions: ["delete"] }] } } }));
      await expect(fromFile.reload()).rejects.toThrow(/not valid at tokens\."new-…"\.grants\.0/);
      writeFileSync(file, JSON.stringify({ tokens: { "new-token-0123456789": { name: "new", grants: [] } } }));
      await fromFile.reload();
      expect(fromFile.authenticate(request("page-viewer-0123456789"))).toBeUndefined();
      expect(fromFile.authenticate(request("new-token-0123456789"))?.name).toBe("new");
      writeFileSync(file, "{ not json");
      await expect(TokenPolicy.fromFile(file)).rejects.toThrow(/is not JSON/);
      await expect(TokenPolicy.fromFile(join(dir, "missing.json"))).rejects.toThrow(/cannot read the tokens file .*ENOENT/);
    } finally {
      removeDir(dir);
    }
  });
});

describe("an app's access hooks", () => {
  it("deny when a hook throws or answers anything but true", async () => {
    const policy = new AppHooksPolicy(
      {
        authenticate: async (r) => (r.token === "boom" ? Promise.reject(new Error("boom")) : r.token ? { name: r.token } : null),
        authorize: (principal, action) => (principal.name === "throws" ? (() => { throw new Error("no"); })() : action === "read" ? true : ("yes" as never)),
      },
      createLogger("silent"),
    );
    expect(await policy.authenticate(request("boom"))).toBeUndefined();
    expect(await policy.authenticate(request(undefined))).toBeUndefined();
    const alice = (await policy.authenticate(request("alice")))!;
    expect(policy.authorize(alice, "read", { kind: "entity", id: "A/b" })).toBe(true);
    expect(policy.authorize(alice, "signal", { kind: "entity", id: "A/b" })).toBe(false); // "yes" is not true
    expect(policy.authorize({ name: "throws" }, "read", { kind: "entity", id: "A/b" })).toBe(false);
  });
});

describe("request tokens and origins", () => {
  it("finds the token in the Authorization header, the token query parameter or a bearer. protocol value", () => {
    expect(requestToken({ authorization: "Bearer abc" }, "")).toBe("abc");
    expect(requestToken({ authorization: "bearer   abc  " }, "")).toBe("abc");
    expect(requestToken({ authorization: "Basic abc" }, "")).toBeUndefined();
    expect(requestToken({}, "x=1&token=a%2Bb")).toBe("a+b");
    expect(requestToken({ "sec-websocket-protocol": "durable-entities, bearer.xyz" }, "")).toBe("xyz");
    expect(requestToken({}, "")).toBeUndefined();
  });

  it("accepts no Origin, the server's own, and the allowed ones only", () => {
    const origins = new OriginPolicy(["https://app.example.com"], "http");
    expect(origins.check({ host: "127.0.0.1:7071" })).toBeUndefined();
    expect(origins.check({ host: "127.0.0.1:7071", origin: "http://127.0.0.1:7071" })).toBeUndefined();
    expect(origins.check({ host: "127.0.0.1:7071", origin: "https://APP.example.com:443/" })).toBeUndefined();
    expect(origins.check({ host: "127.0.0.1:7071", origin: "http://evil.example" })).toMatch(/not accepted.*--allow-origin/);
    expect(origins.check({ host: "127.0.0.1:7071", origin: "http://127.0.0.1:7072" })).toBeDefined();
    expect(origins.check({ host: "127.0.0.1:7071", origin: "null" })).toBeDefined();
    expect(new OriginPolicy(["*"], "http").check({ host: "h", origin: "http://any.example" })).toBeUndefined();
  });
});
