/**
 * Fairness between connections: each connection may have about `bytesPerTurn` of its messages handled
 * per event-loop turn; what it sends beyond that waits in its lane, and waiting lanes are served in
 * turn, one share each, with the event loop (other sockets, commits) running between turns. So one
 * connection flooding the server delays the others by at most one share of its work, not by all of it.
 */
export class FairInput {
  private turn = 0;
  private armed = false;
  /** Lanes with waiting messages, in the order they are served. */
  private waiting = new Set<InputLane>();

  constructor(readonly bytesPerTurn: number) {}

  /** A lane for one connection; `handle` processes one message. */
  lane(handle: (message: string) => void): InputLane {
    return new InputLane(this, handle);
  }

  /** @internal the current turn; lanes reset their share when it changes. */
  get currentTurn(): number {
    return this.turn;
  }

  /** @internal a lane used some of its share: the next turn must come. */
  arm(): void {
    if (this.armed) return;
    this.armed = true;
    setImmediate(this.nextTurn);
  }

  /** @internal */
  enqueue(lane: InputLane): void {
    this.waiting.add(lane);
    this.arm();
  }

  /** @internal */
  forget(lane: InputLane): void {
    this.waiting.delete(lane);
  }

  private readonly nextTurn = (): void => {
    this.armed = false;
    this.turn++;
    const lanes = this.waiting;
    this.waiting = new Set();
    for (const lane of lanes) if (lane.serve()) this.waiting.add(lane);
    if (this.waiting.size > 0) this.arm();
  };
}

/** One connection's input: handled at once while it has its share of the turn, else queued in order. */
export class InputLane {
  private readonly queue: string[] = [];
  private queueHead = 0;
  /** Bytes (UTF-16 units) of queued messages. */
  queuedBytes = 0;
  private used = 0;
  private turn = -1;
  private closed = false;

  constructor(
    private readonly scheduler: FairInput,
    private readonly handle: (message: string) => void,
  ) {}

  /** Handles the message now, or queues it behind the ones waiting. */
  offer(message: string): void {
    if (this.closed) return;
    if (this.queueHead === this.queue.length && this.hasShare()) return this.run(message);
    this.queue.push(message);
    this.queuedBytes += message.length;
    this.scheduler.enqueue(this);
  }

  /** Drops what waits; nothing more is handled. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.queueHead = 0;
    this.queuedBytes = 0;
    this.scheduler.forget(this);
  }

  /** @internal handles waiting messages within this turn's share; true when some still wait. */
  serve(): boolean {
    while (!this.closed && this.queueHead < this.queue.length && this.hasShare()) {
      const message = this.queue[this.queueHead]!;
      this.queue[this.queueHead++] = "";
      this.queuedBytes -= message.length;
      if (this.queueHead === this.queue.length) {
        this.queue.length = 0;
        this.queueHead = 0;
      }
      this.run(message);
    }
    return !this.closed && this.queueHead < this.queue.length;
  }

  private hasShare(): boolean {
    const turn = this.scheduler.currentTurn;
    if (this.turn !== turn) {
      this.turn = turn;
      this.used = 0;
    }
    return this.used < this.scheduler.bytesPerTurn;
  }

  private run(message: string): void {
    this.used += message.length;
    this.scheduler.arm();
    this.handle(message);
  }
}
