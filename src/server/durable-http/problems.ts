import { ErrorCode } from "../../../protocol/index.js";
import type { Outcome } from "../../runtime/index.js";
import type { HttpResponse } from "../transport.js";

/** The content type of every JSON answer of the HTTP API. */
export const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" } as const;

/**
 * A request the HTTP API refuses: thrown by route handlers, answered as `{ error: code, message }`
 * with `status` (never a stack trace).
 */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** The HTTP status that answers an error code of the runtime or the orchestration host. */
export function statusOfCode(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.bad_request:
    case ErrorCode.unknown_operation:
      return 400;
    case ErrorCode.unauthorized:
      return 401;
    case ErrorCode.forbidden:
      return 403;
    case ErrorCode.not_found:
    case ErrorCode.unknown_entity:
    case ErrorCode.unknown_orchestration:
      return 404;
    case ErrorCode.instance_exists:
    case ErrorCode.limit_exceeded:
      return 409;
    case ErrorCode.instance_finished:
    case ErrorCode.invalid_state:
      return 410;
    case ErrorCode.payload_too_large:
      return 413;
    case ErrorCode.shutting_down:
    case ErrorCode.overloaded:
    case ErrorCode.hub_unavailable:
    case ErrorCode.store_unavailable:
      return 503;
    default:
      return 500;
  }
}

/** A problem for an error outcome (the runtime's message is meant for people; internal errors carry no details). */
export function problemOf(outcome: Extract<Outcome, { kind: "error" }>): HttpProblem {
  return new HttpProblem(statusOfCode(outcome.code), outcome.code, outcome.message);
}

/** `{ error, message }` with `status`. */
export function errorResponse(status: number, code: ErrorCode, message: string, headers: Readonly<Record<string, string>> = {}): HttpResponse {
  return { status, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify({ error: code, message }) };
}

/** A JSON answer. */
export function jsonResponse(status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): HttpResponse {
  return { status, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** An answer without a body (202 for a signal or an event). */
export function emptyResponse(status: number, headers: Readonly<Record<string, string>> = {}): HttpResponse {
  return { status, headers, body: "" };
}
