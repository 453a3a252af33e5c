import { afterEach, describe, expect, it } from "vitest";
import { connect as connectNats } from "nats";
import { encodeBundle } from "../../../src/cluster/inbox-bundle.js";
import { InboxParticipant } from "../../../src/cluster/inbox-participant.js";
import { partitionInboxAddress } from "../../../src/cluster/log-names.js";
import { ensureLogStream, INBOX_DUPLICATE_WINDOW_MS } from "../../../src/cluster/log-stream.js";
import { OutboxCourier } from "../../../src/cluster/outbox-courier.js";
import { createLogger } from "../../../src/log.js";
import type { TickRelease } from "../../../src/runtime/index.js";
import { LmdbStore, type EntityMessage } from "../../../src/storage/index.js";
import { startNatsServer } from "../../support/nats-servers.js";
import { tempDataDir } from "../support/test-server.js";

/**
 * A receiving partition applies each sender's messages in outbox order and drops what is numbered at
 * or below the highest number it applied from that sender (a resend). Messages reach it two ways: from
 * its inbox stream, and handed over in memory when this node owns the sender too. A hand-over must not
 * overtake what the inbox still holds from the same sender, or that is dropped as a resend: lost.
 *
 * Seen in the conformance run's crash-cycles test (a one-node cluster restarting): while the node took
 * its partitions back one by one, a message to a partition not yet taken went into that partition's
 * inbox; once taken, the sender's next messages were handed over at once, applied before the inbox was
 * read, and the message in the inbox was then dropped. The same happens when a node takes over a
 * sending partition whose previous owner published to an inbox that this node's reader has not read
 * yet. This test builds that second case directly.
 */
describe("a partition's inbox and local hand-overs", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("apply a sender's messages in its outbox order: what the inbox holds is not overtaken by a hand-over", { timeout: 60_000 }, async () => {
    const nats = await startNatsServer();
    cleanups.push(() => nats.stop());
    const connection = await connectNats({ servers: nats.urls });
    cleanups.push(() => connection.close());
    const jsm = await connection.jetstreamManager();
    const dir = tempDataDir();
    cleanups.push(dir.cleanup);
    const store = await LmdbStore.open({ path: dir.path, outbox: true });
    cleanups.push(() => store.close());

    const sender = "Counter/sender";
    const from = store.partitionOf(sender);
    const target = Array.from({ length: 100 }, (_, i) => `Counter/t${i}`).find((id) => store.partitionOf(id) !== from)!;
    const to = store.partitionOf(target);
    const message = (input: number): EntityMessage => ({ target, op: "add", input, source: sender });
    const hub = "inboxorder";

    // The sender's previous owner delivered its outbox message 1 to the target's inbox and deleted it;
    // message 2 is still in the outbox, to be sent by this node, which now owns both partitions.
    const inbox = partitionInboxAddress(hub, to);
    await ensureLogStream(jsm, inbox, { replicas: 1, duplicateWindowMs: INBOX_DUPLICATE_WINDOW_MS });
    await connection.jetstream().publish(inbox.subject, encodeBundle({ from, messages: [[1, message(1)]] }));
    const batch = store.newBatch();
    const first = batch.appendMessage(message(1), sender);
    batch.appendMessage(message(2), sender);
    batch.deleteMessage(first);
    await store.commit(batch);
    expect(store.readOutbox(from).map(([seq]) => seq)).toEqual([2]);

    const log = createLogger("error");
    let participant: InboxParticipant | undefined;
    const courier = new OutboxCourier(connection, connection.jetstream(), jsm, store, {
      hub,
      replicas: 1,
      log,
      delivered: (partition, seqs) => participant?.outboxDelivered(partition, seqs),
      published: (partition, sequence) => participant?.published(partition, sequence),
      handOver: (partition, bundle) => participant?.handOver(partition, bundle),
    });
    participant = new InboxParticipant(connection, jsm, store, courier, hub, log);
    const applied: EntityMessage[] = [];
    participant.attach(
      () => undefined,
      (_address, delivered) => void applied.push(delivered as EntityMessage),
    );
    cleanups.push(() => {
      participant.stop();
      courier.stop();
    });

    // Taking the partitions: the inboxes are read from their positions, the outboxes sent again.
    participant.reset();
    // Ticks, as the pipeline runs them, until both messages are applied or nothing is left to do.
    for (let tick = 1; tick <= 200 && applied.length < 2; tick++) {
      if (!participant.busy) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        continue;
      }
      const writes = store.newBatch();
      const release: TickRelease | undefined = participant.runTurns({ batch: writes, tick, nowMs: Date.now(), send: () => undefined, counted: () => undefined });
      await store.commit(writes);
      release?.release();
    }
    expect(applied.map((delivered) => delivered.input)).toEqual([1, 2]);
  });
});
