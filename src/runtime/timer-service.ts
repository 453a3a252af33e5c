import type { EntityStore, TimerAddress } from "../storage/index.js";
import type { Clock } from "./clock.js";
import type { Logger } from "../log.js";

/** Timers read per partition per firing; more wait for the next round (at once). */
const FIRE_BATCH = 1_000;
/** The longest the clock is armed for before the store is looked at again. */
const MAX_ARMED_MS = 60_000;

/**
 * Durable timers. They live in the store, sorted by due time in each partition; one clock timer is
 * armed for the earliest, so a timer that waits 72 hours costs nothing meanwhile (no polling) and
 * survives restarts. A due timer is handed to `fire` once per process; its owner deletes it in the
 * commit that records the firing and then calls `settled`, so a timer fires once.
 */
export class TimerService {
  private armed: { at: number; handle: unknown } | undefined;
  /** Timers handed to `fire` and not yet settled, by key. */
  private readonly inFlight = new Set<string>();
  private stopped = false;

  constructor(
    private readonly store: EntityStore,
    private readonly clock: Clock,
    private readonly fire: (timer: TimerAddress, value: unknown) => void,
    private readonly log: Logger,
  ) {}

  /** Arms the clock for the earliest stored timer. */
  start(): void {
    this.rearm();
  }

  /** A timer was committed: arm earlier if it is due before the armed one. */
  added(fireAt: number): void {
    if (this.stopped) return;
    if (this.armed === undefined || fireAt < this.armed.at) this.arm(fireAt);
  }

  /** Timers handed out earlier are deleted (or will never be): look again for the next due. */
  settled(timers: readonly TimerAddress[]): void {
    for (const timer of timers) this.inFlight.delete(keyOf(timer));
    if (!this.stopped) this.rearm();
  }

  /** After a failed commit: timers handed out and not settled may be handed out again (their firing was not recorded). */
  reset(): void {
    this.inFlight.clear();
    if (!this.stopped) this.rearm();
  }

  stop(): void {
    this.stopped = true;
    if (this.armed) this.clock.clearTimer(this.armed.handle);
    this.armed = undefined;
  }

  private rearm(): void {
    let next: number | undefined;
    for (const partition of this.store.localPartitions) {
      const due = this.nextNotInFlight(partition);
      if (due !== undefined && (next === undefined || due < next)) next = due;
    }
    if (next === undefined) {
      if (this.armed) this.clock.clearTimer(this.armed.handle);
      this.armed = undefined;
      return;
    }
    this.arm(next);
  }

  /** The partition's earliest due timer that was not handed out yet. */
  private nextNotInFlight(partition: number): number | undefined {
    const first = this.store.nextTimerDue(partition);
    if (first === undefined || this.inFlight.size === 0) return first;
    for (const [timer] of this.store.readDueTimers(partition, Number.MAX_SAFE_INTEGER, this.inFlight.size + 1)) {
      if (!this.inFlight.has(keyOf(timer))) return timer.fireAt;
    }
    return undefined;
  }

  /**
   * Arms the clock for `at`, but never further ahead than a minute: timers count in elapsed time,
   * so when the wall clock steps forward (NTP, a resumed VM) the due timers are found within a minute.
   */
  private arm(at: number): void {
    if (this.armed) this.clock.clearTimer(this.armed.handle);
    const handle = this.clock.setTimer(() => this.fireDue(), Math.min(at - this.clock.now(), MAX_ARMED_MS));
    this.armed = { at, handle };
  }

  private fireDue(): void {
    this.armed = undefined;
    if (this.stopped) return;
    const now = this.clock.now();
    let more = false;
    for (const partition of this.store.localPartitions) {
      const due = this.store.readDueTimers(partition, now, FIRE_BATCH + this.inFlight.size);
      let handed = 0;
      for (const [timer, value] of due) {
        const key = keyOf(timer);
        if (this.inFlight.has(key)) continue;
        if (handed++ >= FIRE_BATCH) {
          more = true;
          break;
        }
        this.inFlight.add(key);
        try {
          this.fire(timer, value);
        } catch (error) {
          this.inFlight.delete(key);
          this.log.error("firing a timer failed", { instanceId: timer.instanceId, timerId: timer.timerId, error: String(error) });
        }
      }
    }
    if (more) this.arm(now);
    else this.rearm();
  }
}

function keyOf(timer: TimerAddress): string {
  return `${timer.fireAt}\n${timer.timerId}\n${timer.instanceId}`;
}
