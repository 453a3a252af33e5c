/**
 * What the bench's orchestrations return, for the correctness check (kept apart from the app module
 * so that the runner can read them without loading the server's code).
 */

/** The cities `HelloSequence5` greets, in order. */
export const HELLO_SEQUENCE5_CITIES = ["Tokyo", "Seattle", "London", "Cairo", "Lima"] as const;

/** A completed `HelloSequence5`: its five greetings, in order. */
export const HELLO_SEQUENCE5_OUTPUT = HELLO_SEQUENCE5_CITIES.map((city) => `Hello ${city}!`);

/** A completed demo `HelloSequence`. */
export const HELLO_SEQUENCE_OUTPUT = ["Hello Tokyo!", "Hello Seattle!", "Hello London!"];

/** A completed demo `FanOutFanIn(n)`: the sum of the squares of 1..n. */
export function fanOutFanInOutput(n: number): number {
  return (n * (n + 1) * (2 * n + 1)) / 6;
}
