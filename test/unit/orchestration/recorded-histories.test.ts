import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { orchestrations } from "../../fixtures/histories/orchestrations.js";
import { replay, ReplayExecutor, type HistoryEvent, type ReplayResult } from "../../../src/orchestration/index.js";
import { historyScenarios } from "./support/history-scenarios.js";
import { json } from "./support/test-host.js";
import { incomingTurns } from "./support/turns.js";

/** A recorded history: replaying `history` then `newEvents` must give `expected`. */
interface HistoryFixture {
  readonly orchestration: string;
  readonly instanceId: string;
  /** The committed history before the last turn. */
  readonly history: HistoryEvent[];
  /** The last turn's events, as the host handed them to the executor. */
  readonly newEvents: HistoryEvent[];
  /** (`locks` is absent from histories recorded before entity locks existed.) */
  readonly expected: Omit<ReplayResult, "locks"> & { readonly locks?: readonly string[] };
}

const FOLDER = fileURLToPath(new URL("../../fixtures/histories/", import.meta.url));
const RECORD = process.env.RECORD_HISTORIES === "1";

function loadFixtures(): Array<[string, HistoryFixture]> {
  return readdirSync(FOLDER)
    .filter((file) => file.endsWith(".json"))
    .sort()
    .map((file) => [file, JSON.parse(readFileSync(join(FOLDER, file), "utf8")) as HistoryFixture]);
}

function definitionOf(fixture: HistoryFixture) {
  const definition = orchestrations.get(fixture.orchestration);
  if (definition === undefined) throw new Error(`no orchestration "${fixture.orchestration}" in test/fixtures/histories/orchestrations.ts`);
  return definition;
}

describe.skipIf(RECORD)("recorded histories (test/fixtures/histories)", () => {
  const fixtures = loadFixtures();

  it("are there", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(historyScenarios.length);
  });

  it.each(fixtures)("%s replays to the recorded actions and end", (_file, fixture) => {
    const result = replay({ instanceId: fixture.instanceId, definition: definitionOf(fixture), past: fixture.history, newEvents: fixture.newEvents });
    // Histories recorded before entity locks existed have no `locks` in their result: they hold none.
    expect(json(result)).toEqual({ locks: [], ...fixture.expected });
  });

  it.each(fixtures)("%s: at every turn, a cached executor agrees with a fresh replay", (_file, fixture) => {
    const definition = definitionOf(fixture);
    const whole = [...fixture.history, ...fixture.newEvents];
    const turns = incomingTurns(whole);
    const starts = whole.flatMap((event, index) => (event.type === "OrchestratorStarted" ? [index] : []));
    const cached = new ReplayExecutor(fixture.instanceId, definition);
    turns.forEach((turn, i) => {
      // A rewind's turn replays the history anew (the failures it takes back were applied already): the host runs it on a fresh executor.
      const rewinds = turn.some((event) => event.type === "ExecutionRewound");
      const fromCache = i === 0 ? cached.run([], turn) : rewinds ? cached.run(whole.slice(0, starts[i]), turn) : cached.advance(turn);
      const fresh = replay({ instanceId: fixture.instanceId, definition, past: whole.slice(0, starts[i]), newEvents: turn });
      expect(json(fromCache), `turn ${i}`).toEqual(json(fresh));
    });
  });
});

describe.runIf(RECORD)("recording histories (RECORD_HISTORIES=1)", () => {
  it.each(historyScenarios)("$file", ({ file, run }) => {
    const host = run();
    const lastTurnStart = host.history.map((event) => event.type).lastIndexOf("OrchestratorStarted");
    const fixture: HistoryFixture = {
      orchestration: host.definition.name,
      instanceId: host.instanceId,
      history: host.history.slice(0, lastTurnStart),
      newEvents: host.lastNewEvents,
      expected: json(host.last),
    };
    writeFileSync(join(FOLDER, `${file}.json`), formatFixture(fixture));
  });
});

/** JSON with one history event per line, so that a fixture reads (and diffs) like a history. */
function formatFixture(fixture: HistoryFixture): string {
  const events = (list: HistoryEvent[]) => (list.length === 0 ? "[]" : `[\n${list.map((event) => `    ${JSON.stringify(event)}`).join(",\n")}\n  ]`);
  return [
    "{",
    `  "orchestration": ${JSON.stringify(fixture.orchestration)},`,
    `  "instanceId": ${JSON.stringify(fixture.instanceId)},`,
    `  "history": ${events(fixture.history)},`,
    `  "newEvents": ${events(fixture.newEvents)},`,
    `  "expected": ${JSON.stringify(fixture.expected, null, 2).replaceAll("\n", "\n  ")}`,
    "}",
    "",
  ].join("\n");
}
