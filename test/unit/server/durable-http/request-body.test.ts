import { describe, expect, it } from "vitest";
import { jsonBody } from "../../../../src/server/durable-http/request-body.js";
import { HttpProblem } from "../../../../src/server/durable-http/problems.js";
import type { HttpRequest } from "../../../../src/server/index.js";

const request = (body: string | Buffer, contentType?: string): HttpRequest => ({
  method: "POST",
  path: "/",
  query: "",
  headers: contentType === undefined ? {} : { "content-type": contentType },
  body: typeof body === "string" ? Buffer.from(body) : body,
});

function problem(fn: () => unknown): { status: number; message: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof HttpProblem) return { status: error.status, message: error.message };
    throw error;
  }
  throw new Error("no problem");
}

describe("JSON request bodies", () => {
  it("reads an empty body as null and JSON of the JSON media types (and text/plain, or none)", () => {
    expect(jsonBody(request(""), "input")).toBeNull();
    expect(jsonBody(request("", "application/x-www-form-urlencoded"), "input")).toBeNull();
    expect(jsonBody(request('{"a":1}', "application/json; charset=utf-8"), "input")).toEqual({ a: 1 });
    expect(jsonBody(request("[1]", "application/vnd.api+json"), "input")).toEqual([1]);
    expect(jsonBody(request("true", "text/plain;charset=UTF-8"), "input")).toBe(true);
    expect(jsonBody(request('"x"'), "input")).toBe("x");
  });

  it("refuses other media types with 415, and what is not JSON with 400", () => {
    expect(problem(() => jsonBody(request("a=1", "application/x-www-form-urlencoded"), "input"))).toMatchObject({ status: 415, message: expect.stringMatching(/Content-Type: application\/json/) });
    expect(problem(() => jsonBody(request("{", "application/json"), "input"))).toMatchObject({ status: 400, message: expect.stringMatching(/^the input is not JSON/) });
    expect(problem(() => jsonBody(request(Buffer.from([0x22, 0xff, 0x22]), "application/json"), "event data"))).toMatchObject({ status: 400, message: "the event data is not UTF-8 text" });
    expect(problem(() => jsonBody(request("[".repeat(300) + "]".repeat(300)), "input"))).toMatchObject({ status: 400, message: expect.stringMatching(/nests deeper/) });
  });
});
