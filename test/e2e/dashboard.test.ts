import { mkdirSync } from "node:fs";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as demoApp from "../../src/demo/app.js";
import type { HelloSequence, RetryDemo } from "../../src/demo/app.js";
import { createLogger } from "../../src/log.js";
import { defineOrchestration } from "../../src/orchestration/index.js";
import { openBrowserHarness, type BrowserHarness } from "./support/chromium.js";

const ARTIFACTS = new URL("../../test-artifacts/", import.meta.url).pathname;
const WAIT = { timeout: 10_000 };

/** Holds its entities in a critical section until it gets the event `release` (no demo orchestration waits inside one). */
const HoldLocks = defineOrchestration("HoldLocks", function* (ctx, ids: string[]) {
  const lock = yield* ctx.lock(ids);
  yield ctx.waitForExternalEvent("release");
  lock.release();
  return "released";
});

describe("the dashboard in a real browser", () => {
  let harness: BrowserHarness;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    // The server serves the dashboard itself (no extra routes): what every startServer user gets.
    harness = await openBrowserHarness({}, { app: { ...demoApp, HoldLocks }, log: createLogger("error") }); // RetryDemo's failing attempts log warnings
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  async function open(hash: string): Promise<Page> {
    const page = await harness.browser.newPage({ viewport: { width: 1200, height: 800 } });
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(`${harness.server.url}/${hash}`);
    await page.locator("[data-testid=status]", { hasText: /^connected$/ }).waitFor(WAIT);
    return page;
  }

  it("lists the demo entity types with counts, and a type's keys, searchable by prefix", async () => {
    const { client } = harness;
    await Promise.all([client.signal("Counter/alice", "add", 5), client.signal("Counter/bob", "add", 1), client.signal("Counter/carol", "add", 2), client.signal("Stats/demo", "record", 42)]);
    const page = await open("");
    const types = page.locator("[data-testid=entity-types]");
    for (const type of ["Counter", "Stats", "ShoppingCart"]) await types.locator(`li[data-type=${type}]`).waitFor(WAIT);
    await types.locator("li[data-type=Counter] .count", { hasText: /^3$/ }).waitFor(WAIT);
    await types.locator("li[data-type=Stats] .count", { hasText: /^1$/ }).waitFor(WAIT);

    await types.locator("li[data-type=Counter] a").click();
    const keys = page.locator("[data-testid=entity-keys] tbody tr");
    await page.locator("[data-testid=entity-keys] tr[data-entity='Counter/carol']").waitFor(WAIT);
    expect(await keys.evaluateAll((rows) => rows.map((row) => row.getAttribute("data-entity")))).toEqual(["Counter/alice", "Counter/bob", "Counter/carol"]);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-entities.png`, fullPage: true });

    await page.fill("[data-testid=key-prefix]", "b");
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=entity-keys] tbody tr").length === 1, undefined, WAIT);
    expect(await keys.first().getAttribute("data-entity")).toBe("Counter/bob");
    await page.close();
  });

  it("shows an entity's state live: a signal from Node changes it on screen, marked as the last change", async () => {
    const { client } = harness;
    await client.call("ShoppingCart/dora", "addItem", { name: "tea", price: 3 });
    const page = await open("#/entities/ShoppingCart/dora");
    const state = page.locator("[data-testid=entity-state]");
    await state.locator(".json-leaf[data-path='$/items/0/name']", { hasText: '"tea"' }).waitFor(WAIT);
    await page.locator("[data-testid=entity-lock]", { hasText: "nobody" }).waitFor(WAIT);

    await client.signal("ShoppingCart/dora", "addItem", { name: "milk", price: 2, quantity: 2 });
    await state.locator(".json-leaf[data-path='$/items/1/name']", { hasText: '"milk"' }).waitFor(WAIT);
    // The change is marked: the new item, the array's line (it grew) and the total; not the item that stayed.
    await state.locator("details.changed[data-path='$/items/1']").waitFor(WAIT);
    await state.locator("details[data-path='$/items'] > summary.changed").waitFor(WAIT);
    await state.locator(".json-leaf.changed[data-path='$/total']").waitFor(WAIT);
    expect(await state.locator("details.changed[data-path='$/items'], details.changed[data-path='$/items/0'], .json-leaf.changed[data-path='$/items/0/name']").count()).toBe(0);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-entity.png`, fullPage: true });
    await page.close();
  });

  it("signals and calls from the form, and shows a result or a coded error", async () => {
    const { client } = harness;
    await client.signal("Counter/erin", "add", 5);
    const page = await open("#/entities/Counter/erin");
    const state = page.locator("[data-testid=entity-state] .json-leaf");
    await state.filter({ hasText: /^5$/ }).waitFor(WAIT);

    await page.fill("[data-testid=operation]", "add");
    await page.fill("[data-testid=operation-input]", "10");
    await page.click("[data-testid=signal]");
    await state.filter({ hasText: /^15$/ }).waitFor(WAIT);
    await page.locator("[data-testid=entity-state] .json-leaf.changed").waitFor(WAIT);
    expect(await client.get("Counter/erin")).toBe(15);

    await page.fill("[data-testid=operation]", "get");
    await page.fill("[data-testid=operation-input]", "");
    await page.click("[data-testid=call]");
    await page.locator("[data-testid=operation-outcome]", { hasText: /result: 15/ }).waitFor(WAIT);

    await page.fill("[data-testid=operation]", "nope");
    await page.click("[data-testid=call]");
    await page.locator("[data-testid=operation-outcome] .error", { hasText: /^unknown_operation: / }).waitFor(WAIT);
    await page.fill("[data-testid=operation]", "add");
    await page.fill("[data-testid=operation-input]", "{oops");
    await page.click("[data-testid=signal]");
    await page.locator("[data-testid=operation-outcome] .error", { hasText: /not JSON/ }).waitFor(WAIT);
    expect(await client.get("Counter/erin")).toBe(15);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-entity-form.png`, fullPage: true });
    await page.close();
  });

  it("shows who holds an entity's lock, live: an orchestration in its critical section, then nobody", async () => {
    const { client } = harness;
    await client.call("Account/frank", "deposit", 10);
    const page = await open("#/entities/Account/frank");
    const lock = page.locator("[data-testid=entity-lock]");
    await lock.filter({ hasText: /^nobody$/ }).waitFor(WAIT);
    const version = await page.locator("[data-testid=entity-version]").textContent();

    // Taking and releasing the lock change no state (no new version): the page learns of them all the same.
    const id = await client.start(HoldLocks, ["Account/frank"], { instanceId: "hold-dashboard" });
    await lock.locator(`a[href='#/instances/${id}']`, { hasText: id }).waitFor(WAIT);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-entity-locked.png`, fullPage: true });
    await client.raiseEvent(id, "release");
    expect((await client.waitForCompletion(id, { timeoutMs: 10_000 })).runtimeStatus).toBe("Completed");
    await lock.filter({ hasText: /^nobody$/ }).waitFor(WAIT);
    expect(await page.locator("[data-testid=entity-version]").textContent()).toBe(version);
    await page.close();
  });

  it("charts the server's health: an operations rate after a burst of signals, and the connections open", async () => {
    const { client } = harness;
    const page = await open("#/health");
    expect(await page.locator("nav a.active").textContent()).toBe("Health");
    const valueOf = async (testId: string) => Number(await page.getAttribute(`[data-testid=${testId}]`, "data-value"));
    await page.locator("[data-testid=health-connections][data-value]").waitFor(WAIT);
    expect(await valueOf("health-connections")).toBeGreaterThanOrEqual(1); // the page's own, and the test's client

    // A rate covers one interval, so a burst over before the page asks again would show as 0: signal until it shows.
    let shown = false;
    const signalling = (async () => {
      while (!shown) await Promise.all(Array.from({ length: 50 }, () => client.signal("Counter/health", "add", 1)));
    })();
    try {
      await page.locator("[data-testid=health-operations][data-value]:not([data-value='0'])").waitFor(WAIT);
    } finally {
      shown = true;
      await signalling;
    }
    expect(await valueOf("health-operations")).toBeGreaterThan(0);
    await page.locator(".health-chart polyline").first().waitFor(WAIT);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-health.png`, fullPage: true });
    await page.close();
  });

  it("shows a completed HelloSequence's three activities on the timeline", async () => {
    const { client } = harness;
    const id = await client.start<typeof HelloSequence>("HelloSequence", undefined, { instanceId: "hello-dashboard" });
    expect((await client.waitForCompletion(id, { timeoutMs: 10_000 })).runtimeStatus).toBe("Completed");
    const page = await open(`#/instances/${id}`);
    await page.locator("[data-testid=instance-status] [data-testid=runtime-status]", { hasText: "Completed" }).waitFor(WAIT);
    const bars = page.locator("[data-testid=timeline-bar][data-kind=activity]");
    await bars.nth(2).waitFor(WAIT);
    expect(await bars.evaluateAll((rows) => rows.map((row) => [row.getAttribute("data-label"), row.getAttribute("data-failed"), row.getAttribute("data-running")]))).toEqual([
      ["SayHello", null, null],
      ["SayHello", null, null],
      ["SayHello", null, null],
    ]);
    await page.locator("[data-testid=instance-status]", { hasText: "Hello London!" }).waitFor(WAIT);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-instance.png`, fullPage: true });
    await page.close();
  });

  it("shows a RetryDemo that ran out of attempts as failed, each failed attempt marked on the timeline", async () => {
    const { client } = harness;
    const id = await client.start<typeof RetryDemo>("RetryDemo", { failTimes: 3, maxAttempts: 2 }, { instanceId: "retry-dashboard" });
    expect((await client.waitForCompletion(id, { timeoutMs: 10_000 })).runtimeStatus).toBe("Failed");
    const page = await open(`#/instances/${id}`);
    await page.locator("[data-testid=instance-status] [data-testid=runtime-status]", { hasText: "Failed" }).waitFor(WAIT);
    await page.locator("[data-testid=failure]", { hasText: "attempt 2 failed on purpose" }).waitFor(WAIT);
    const failed = page.locator("[data-testid=timeline-bar][data-kind=activity][data-failed=true]");
    await failed.nth(1).waitFor(WAIT);
    expect(await failed.count()).toBe(2);
    await page.locator("[data-testid=timeline-bar][data-kind=timer]").first().waitFor(WAIT); // the retry's wait
    await page.locator("[data-testid=timeline-failures]", { hasText: "FlakyActivity" }).waitFor(WAIT);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-instance-failed.png`, fullPage: true });
    await page.close();
  });

  it("lists instances with a status filter, and acts on a running one: raise, suspend, resume, terminate, purge", async () => {
    const { client } = harness;
    const id = await client.start("ApprovalWorkflow", { timeoutSeconds: 3600 }, { instanceId: "approval-dashboard" });
    const page = await open("#/instances");
    await page.locator("[data-testid=instances] tr[data-instance='hello-dashboard']").waitFor(WAIT);
    await page.locator(`[data-testid=instances] tr[data-instance='${id}'] [data-testid=runtime-status]`, { hasText: /Running|Pending/ }).waitFor(WAIT);
    await page.check("input[data-status=Failed]");
    await page.click("[data-testid=apply-filters]");
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=instances] tbody tr").length === 1, undefined, WAIT);
    await page.locator("[data-testid=instances] tr[data-instance='retry-dashboard']").waitFor(WAIT);
    await page.uncheck("input[data-status=Failed]");
    await page.click("[data-testid=apply-filters]");
    await page.locator(`[data-testid=instances] tr[data-instance='${id}']`).waitFor(WAIT);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-instances.png`, fullPage: true });

    // The row's status is live: suspending from Node changes it on screen.
    await client.suspend(id);
    await page.locator(`[data-testid=instances] tr[data-instance='${id}'] [data-testid=runtime-status]`, { hasText: "Suspended" }).waitFor(WAIT);
    await page.click(`[data-testid=instances] tr[data-instance='${id}'] a`);
    const status = page.locator("[data-testid=instance-status] [data-testid=runtime-status]");
    await status.filter({ hasText: "Suspended" }).waitFor(WAIT);
    await page.click("[data-testid=resume]");
    await status.filter({ hasText: "Running" }).waitFor(WAIT);
    // Its deadline timer runs (a bar growing to now) until the event comes.
    await page.locator("[data-testid=timeline-bar][data-kind=timer][data-running=true]").waitFor(WAIT);
    await page.fill("[data-testid=event-name]", "ApprovalEvent");
    await page.fill("[data-testid=event-data]", "true");
    await page.click("[data-testid=raise]");
    await status.filter({ hasText: "Completed" }).waitFor(WAIT);
    expect((await client.status(id))?.output).toEqual({ approved: true });
    await page.locator("[data-testid=timeline-bar][data-kind=event]", { hasText: "ApprovalEvent" }).waitFor(WAIT);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-instance-actions.png`, fullPage: true });
    await page.click("[data-testid=purge]");
    await page.locator("[data-testid=no-instance]").waitFor(WAIT);
    expect(await client.status(id)).toBeNull();

    const other = await client.start("ApprovalWorkflow", { timeoutSeconds: 3600 }, { instanceId: "approval-terminated" });
    await page.goto(`${harness.server.url}/#/instances/${other}`);
    await status.filter({ hasText: /Running|Pending/ }).waitFor(WAIT);
    await page.click("[data-testid=terminate]");
    await status.filter({ hasText: "Terminated" }).waitFor(WAIT);
    await page.close();
  });

  it("raised no errors in its pages", () => {
    expect(pageErrors).toEqual([]);
  });
});
