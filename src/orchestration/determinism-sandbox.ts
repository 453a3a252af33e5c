import { createHash } from "node:crypto";

/** The real Date, captured when this module loaded (the executor's own clock reads use it). */
export const RealDate = globalThis.Date;
const realRandom = Math.random;

let activeNow = 0;
let activeRandom: () => number = realRandom;

const safeNow = (): number => activeNow;
const safeRandom = (): number => activeRandom();

/**
 * `Date` as orchestrator code sees it: `Date.now()`, `new Date()` and `Date()` give the
 * orchestration's current time; with arguments, and for every static but `now`, it is the real Date
 * (same prototype, so `instanceof Date` holds both ways).
 */
const SafeDate: DateConstructor = new Proxy(RealDate, {
  construct(target, args, newTarget) {
    return Reflect.construct(target, args.length === 0 ? [activeNow] : args, newTarget === SafeDate ? target : newTarget);
  },
  apply() {
    return new RealDate(activeNow).toString();
  },
  get(target, key) {
    return key === "now" ? safeNow : Reflect.get(target, key, target);
  },
});

/**
 * Runs orchestrator code with replay-safe globals: `Date.now()`, `new Date()` and `Date()` return
 * `nowMs`; `Math.random()` draws from `random`. The previous globals are restored afterwards, also
 * when `fn` throws (and nested calls restore their caller's).
 */
export function runDeterministic<T>(nowMs: number, random: () => number, fn: () => T): T {
  const previousDate = globalThis.Date;
  const previousRandom = Math.random;
  const previousNow = activeNow;
  const previousActiveRandom = activeRandom;
  activeNow = nowMs;
  activeRandom = random;
  globalThis.Date = SafeDate;
  Math.random = safeRandom;
  try {
    return fn();
  } finally {
    globalThis.Date = previousDate;
    Math.random = previousRandom;
    activeNow = previousNow;
    activeRandom = previousActiveRandom;
  }
}

/**
 * A PRNG (sfc32) seeded from a string through SHA-256: the same seed gives the same numbers on every
 * machine and Node version. Numbers are in [0, 1), like Math.random.
 */
export function seededRandom(seed: string): () => number {
  const digest = createHash("sha256").update(seed).digest();
  let a = digest.readUInt32LE(0);
  let b = digest.readUInt32LE(4);
  let c = digest.readUInt32LE(8);
  let d = digest.readUInt32LE(12);
  return () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}
