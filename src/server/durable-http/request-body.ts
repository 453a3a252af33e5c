import { ErrorCode, nestsDeeperThan } from "../../../protocol/index.js";
import { MAX_JSON_DEPTH } from "../../runtime/json-value.js";
import type { HttpRequest } from "../transport.js";
import { HttpProblem } from "./problems.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Media types read as JSON: `application/json` and its `+json` kin, and `text/plain` (what `fetch`
 * sends for a string body without a Content-Type). A body without a Content-Type is read as JSON too.
 */
function isJsonMediaType(mediaType: string): boolean {
  return mediaType === "application/json" || mediaType === "text/json" || mediaType === "text/plain" || (mediaType.startsWith("application/") && mediaType.endsWith("+json"));
}

/**
 * The JSON value a request's body holds: null for an empty body (Durable Functions' "no input");
 * 415 for a body of another media type (a form, say: `curl -d` without `-H "Content-Type: application/json"`),
 * 400 for one that is not UTF-8 JSON.
 */
export function jsonBody(request: HttpRequest, what: string): unknown {
  if (request.body.length === 0) return null;
  const contentType = request.headers["content-type"];
  if (contentType !== undefined) {
    const mediaType = contentType.split(";", 1)[0]!.trim().toLowerCase();
    if (mediaType !== "" && !isJsonMediaType(mediaType)) {
      throw new HttpProblem(415, ErrorCode.bad_request, `the ${what} must be JSON (Content-Type: application/json); got ${JSON.stringify(mediaType.slice(0, 100))}`);
    }
  }
  let text: string;
  try {
    text = utf8.decode(request.body);
  } catch {
    throw new HttpProblem(400, ErrorCode.bad_request, `the ${what} is not UTF-8 text`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HttpProblem(400, ErrorCode.bad_request, `the ${what} is not JSON: ${(error as Error).message.slice(0, 200)}`);
  }
  if (nestsDeeperThan(value, MAX_JSON_DEPTH)) throw new HttpProblem(400, ErrorCode.bad_request, `the ${what} nests deeper than ${MAX_JSON_DEPTH} levels`);
  return value;
}
