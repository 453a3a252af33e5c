import { describe, expect, it } from "vitest";
import { parseStaticPath } from "../../../src/server/static-path.js";

describe("parseStaticPath", () => {
  it("decodes segments, skips empty ones and marks directory requests", () => {
    expect(parseStaticPath("/")).toEqual({ ok: true, segments: [], directory: true });
    expect(parseStaticPath("/a/b.html")).toEqual({ ok: true, segments: ["a", "b.html"], directory: false });
    expect(parseStaticPath("/docs/")).toEqual({ ok: true, segments: ["docs"], directory: true });
    expect(parseStaticPath("//a//b%20c")).toEqual({ ok: true, segments: ["a", "b c"], directory: false });
    expect(parseStaticPath("/%252e%252e")).toEqual({ ok: true, segments: ["%2e%2e"], directory: false });
  });

  it("refuses dot segments, encoded separators, NUL and bad escapes with 400", () => {
    for (const path of ["/..", "/a/../b", "/.", "/%2e%2e/x", "/%2E.", "/a%2fb", "/a%2Fb", "/a%5cb", "/a\\b", "/a%00", "/%", "/%zz", "/%c0%ae"]) {
      const parsed = parseStaticPath(path);
      expect(parsed.ok, path).toBe(false);
      if (!parsed.ok) expect(parsed.status, path).toBe(400);
    }
  });

  it("refuses hidden names with 404", () => {
    for (const path of ["/.env", "/.git/config", "/a/.htpasswd", "/%2egit/HEAD"]) {
      expect(parseStaticPath(path), path).toMatchObject({ ok: false, status: 404 });
    }
  });
});
