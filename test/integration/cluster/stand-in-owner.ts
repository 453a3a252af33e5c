import { expect } from "vitest";
import type { Msg, NatsConnection, Subscription } from "nats";
import { ForwardedRequests } from "../../../src/cluster/forwarded-requests.js";
import { partitionLogAddress } from "../../../src/cluster/log-names.js";
import type { Logger } from "../../../src/log.js";
import type { EntityRuntime, OperationRequest, Outcome } from "../../../src/runtime/index.js";
import type { LmdbStore } from "../../../src/storage/index.js";

/**
 * The forwarding of requests between nodes, without nodes: a ForwardedRequests of a node that owns no
 * partition, and a "stand-in owner", a plain NATS client on a partition's request subject that replies
 * what a test says (well-formed answers, broken ones, nothing), for tests of what comes back to the
 * forwarding node.
 */

const encoder = new TextEncoder();

/** Where a partition's owner (of hub "default") takes forwarded requests. */
function requestSubjectOf(partition: number): string {
  return partitionLogAddress("default", partition).subject.replace(".log.", ".requests.");
}

/** A frame of partition-asks.ts: kind, a stream id of 8 bytes, payload. */
export function frame(kind: "D" | "E" | "K" | "M", payload: string, stream = "rogue001"): Uint8Array {
  const body = encoder.encode(payload);
  const bytes = new Uint8Array(9 + body.length);
  bytes[0] = kind.charCodeAt(0);
  bytes.set(encoder.encode(stream), 1);
  bytes.set(body, 9);
  return bytes;
}

/** An owner's reply to a batch of one request, in one message. */
export function oneAnswer(outcome: Outcome): Uint8Array {
  return encoder.encode(JSON.stringify({ answers: [{ outcome }] }));
}

/** A node, on `connection`, that owns no partition: every entity request it is given goes to `partition`'s owner. */
export function forwardingNode(connection: NatsConnection, partition: number, warnings: string[] = []) {
  const runtime = { forward: undefined, submit: () => undefined } as unknown as EntityRuntime;
  const store = { isLocal: () => false, partitionOf: () => partition } as unknown as LmdbStore;
  const log: Logger = { debug: () => undefined, info: () => undefined, warn: (message) => void warnings.push(message), error: () => undefined, fatal: () => undefined, child: () => log };
  const forwarded = new ForwardedRequests(connection, "default", store, runtime, undefined, log);
  /** Forwards one request and resolves with its outcome. */
  const forward = (request: Omit<OperationRequest, "replyTo" | "requestId">) =>
    new Promise<Outcome>((resolve) => {
      expect(runtime.forward!({ ...request, replyTo: { deliver: (_id, outcome) => resolve(outcome) }, requestId: 1 })).toBe(true);
    });
  return { forwarded, forward };
}

/** A partition's owner played by a test: each batch it is sent gets the next of `replies` (nothing when none is left). */
export class StandInOwner {
  readonly replies: Array<(message: Msg) => void | Promise<void>> = [];
  /** Each batch received: its requests (JSON) and its reply subject. */
  readonly batches: Array<{ readonly body: unknown; readonly reply: string }> = [];
  private subscription: Subscription | undefined;

  constructor(
    readonly connection: NatsConnection,
    private readonly partition: number,
  ) {}

  get listening(): boolean {
    return this.subscription !== undefined;
  }

  /** Starts listening on the partition's request subject (until then, NATS tells senders nobody listens). */
  async listen(): Promise<void> {
    this.subscription = this.connection.subscribe(requestSubjectOf(this.partition), {
      callback: (_error, message) => {
        this.batches.push({ body: message.json(), reply: message.reply ?? "" });
        void this.replies.shift()?.(message);
      },
    });
    await this.connection.flush();
  }

  /** Replies `outcome` to a batch of one request. */
  answer(message: Msg, outcome: Outcome): void {
    this.connection.publish(message.reply!, oneAnswer(outcome));
  }

  /** Replies the same outcome to every request of the batch. */
  answerAll(message: Msg, outcome: Outcome): void {
    const { requests } = message.json<{ requests: unknown[] }>();
    this.connection.publish(message.reply!, encoder.encode(JSON.stringify({ answers: requests.map(() => ({ outcome })) })));
  }
}
