import {
  ApprovalWithTimeout,
  EternalCounter,
  FanOutFanIn,
  HelloSequence,
  Provision,
  RetryingCharge,
  Transfer,
} from "../../../fixtures/histories/orchestrations.js";
import { FakeEntities } from "./fake-entities.js";
import { TestHost } from "./test-host.js";

/** How a recorded history came about: the host's turns, the last one being what the fixture replays. */
export interface HistoryScenario {
  /** The fixture's file name (without .json). */
  readonly file: string;
  readonly run: () => TestHost;
}

export const historyScenarios: HistoryScenario[] = [
  {
    file: "hello-sequence-completed",
    run: () => {
      const host = new TestHost(HelloSequence, { instanceId: "hello-1" });
      host.start();
      host.drive({ SayHello: (city: string) => `Hello ${city}!` });
      return host;
    },
  },
  {
    file: "fan-out-fan-in-partial",
    run: () => {
      const host = new TestHost(FanOutFanIn, { instanceId: "fan-1" });
      host.start(["a.txt", "b.txt", "c.txt", "d.txt", "e.txt"]);
      host.turn([host.completed(3, 400), host.completed(0, 100)]);
      host.turn([host.completed(1, 200), host.completed(4, 500)]);
      return host;
    },
  },
  {
    file: "fan-out-fan-in-completed",
    run: () => {
      const host = new TestHost(FanOutFanIn, { instanceId: "fan-2" });
      host.start(["a.txt", "b.txt", "c.txt"]);
      host.turn([host.completed(2, 3), host.completed(0, 1)]);
      host.turn([host.completed(1, 2)]);
      host.turn([host.completed(3)]);
      return host;
    },
  },
  {
    file: "approval-approved",
    run: () => {
      const host = new TestHost(ApprovalWithTimeout, { instanceId: "approval-1" });
      host.start({ id: "req-7", hours: 24 });
      host.turn([host.raised("ApprovalEvent", { approved: true, by: "ann" })]); // before the wait: kept
      host.turn([host.completed(0)], 60_000);
      return host;
    },
  },
  {
    file: "approval-approved-cancels-timer",
    run: () => {
      const host = new TestHost(ApprovalWithTimeout, { instanceId: "approval-3" });
      host.start({ id: "req-9", hours: 24 });
      host.turn([host.completed(0)]);
      host.turn([host.raised("approvalevent", { approved: false, by: "bob" })], 600_000);
      return host;
    },
  },
  {
    file: "approval-escalated",
    run: () => {
      const host = new TestHost(ApprovalWithTimeout, { instanceId: "approval-2" });
      host.start({ id: "req-8", hours: 1 });
      host.turn([host.completed(0)]);
      host.turn([host.fired(1)], 3_600_000);
      host.turn([host.completed(2)]);
      return host;
    },
  },
  {
    file: "hello-sequence-rewound",
    run: () => {
      const host = new TestHost(HelloSequence, { instanceId: "hello-2" });
      host.start();
      host.turn([host.completed(0, "Hello Tokyo!")]);
      host.turn([host.failed(1, { errorType: "Error", message: "Seattle is down" })]);
      host.rewind("Seattle is back");
      host.turn([host.completed(1, "Hello Seattle!")], 60_000);
      host.turn([host.completed(2, "Hello London!")]);
      return host;
    },
  },
  {
    file: "retrying-charge-gave-up",
    run: () => {
      const host = new TestHost(RetryingCharge, { instanceId: "charge-1" });
      host.start(25);
      host.turn([host.failed(0, { errorType: "GatewayTimeout", message: "no answer" })]);
      host.turn([host.fired(1)], 1000);
      host.turn([host.failed(2, { errorType: "GatewayTimeout", message: "no answer" })]);
      host.turn([host.fired(3)], 2000);
      host.turn([host.failed(4, { errorType: "CardDeclined", message: "declined", details: { code: 51 } })]);
      host.turn([host.completed(5)]);
      return host;
    },
  },
  {
    file: "provision-completed",
    run: () => {
      const host = new TestHost(Provision, { instanceId: "provision-1" });
      host.start("westeurope");
      host.turn([host.completed(0, { vmId: "vm-42" })], 30_000);
      const timer = host.openOf("CreateTimer")[0]!;
      host.turn([host.fired(timer.id)], timer.fireAt - host.nowMs);
      host.turn([host.completed(2, true)]);
      return host;
    },
  },
  {
    file: "transfer-completed",
    run: () => {
      const host = new TestHost(Transfer, { instanceId: "transfer-1" });
      const entities = new FakeEntities();
      entities.states.set("Account/alice", 100).set("Account/bob", 50);
      host.start({ from: "bob", to: "alice", amount: 30 });
      entities.drive(host);
      return host;
    },
  },
  {
    file: "transfer-holding-locks",
    run: () => {
      const host = new TestHost(Transfer, { instanceId: "transfer-2" });
      host.start({ from: "carol", to: "alice", amount: 10 });
      host.turn([host.lockGranted(0)], 250);
      return host;
    },
  },
  {
    file: "eternal-counter-continued",
    run: () => {
      const host = new TestHost(EternalCounter, { instanceId: "counter-1", generation: 4 });
      host.start(10);
      host.turn([host.raised("other", "kept"), host.raised("add", 5), host.raised("add", 7)]);
      return host;
    },
  },
];
