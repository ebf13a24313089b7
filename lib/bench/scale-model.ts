import { type BudgetState, EMPTY_BUDGET_STATE, viewSlots } from '../limits/budget-item';

/**
 * A scale model of the request budget (a simulation in memory, not AWS): many organizations,
 * many containers, each container working one organization's backlog at a time, against the
 * budget item's conditional-write rules (lib/limits/budget-item.ts). It answers what a test
 * cannot: how often conditional writes conflict at 1,000 containers, what DynamoDB costs per
 * million Books calls, and how hard each budget item is written against DynamoDB's
 * per-partition limit.
 *
 * Model: every write takes `writeLatencyMs` and is applied at its end in time order (DynamoDB
 * serialises writes on one item); a container decides from the item as its own last write
 * returned it (stale by whatever others wrote since), picks a random free slot, and loses the
 * race if another container took that slot first (one conflict, then it retries with the fresh
 * item the refusal returns). A granted call takes `callMs`; its release restamps the slot and
 * frees its in-flight place, carried by the container's next acquire when it has one queued
 * (the lease handover), else written alone.
 */
export interface ScaleModelParameters {
  readonly organizations: number;
  readonly containers: number;
  /** Books calls per window and organization, and the window. */
  readonly budget: number;
  readonly windowMs: number;
  readonly maxInFlight: number;
  readonly clockSkewMs: number;
  readonly holdMs: number;
  readonly transitMs: number;
  readonly callMs: number;
  readonly writeLatencyMs: number;
  /** Simulated time. */
  readonly durationMs: number;
  /** Item size in bytes per slot entry (name, number, map overhead). */
  readonly bytesPerSlot: number;
  readonly random: () => number;
}

export interface ScaleModelFigures {
  readonly booksCalls: number;
  readonly acquireWrites: number;
  readonly releaseWrites: number;
  readonly conflicts: number;
  readonly conflictsPerBooksCall: number;
  readonly writesPerBooksCall: number;
  /** Write request units per write: the item's size rounded up to whole KB. */
  readonly wcuPerWrite: number;
  readonly costPerMillionBooksCallsUsd: number;
  /** Mean and maximum write units per second on one budget item. */
  readonly meanWcuPerSecondPerItem: number;
  readonly maxWcuPerSecondPerItem: number;
  readonly utilization: number;
}

/** us-east-1 on-demand, standard table class: USD per million write request units. */
export const ON_DEMAND_USD_PER_MILLION_WRITES = 0.625;
/** DynamoDB's per-partition ceiling, in write units per second. */
export const PARTITION_WCU_PER_SECOND = 1_000;

interface Slot {
  stamp: number | undefined;
}

interface Org {
  readonly slots: Slot[];
  inFlight: number;
  /** Write units per whole second of simulated time. */
  readonly wcuBySecond: Map<number, number>;
  calls: number;
}

interface Container {
  readonly org: number;
  /** The item as this container last saw it. */
  view: BudgetState;
  /** When this container's next decision happens. */
  nextAtMs: number;
  /** A finished call's slot restamp, carried by the next acquire. */
  pending: { index: number; endMs: number } | undefined;
}

const stateOf = (org: Org): BudgetState => ({
  ...EMPTY_BUDGET_STATE,
  slots: new Map(
    org.slots.flatMap((slot, index) =>
      slot.stamp === undefined ? [] : [[index, slot.stamp] as [number, number]],
    ),
  ),
});

export const runScaleModel = (p: ScaleModelParameters): ScaleModelFigures => {
  const orgs: Org[] = Array.from({ length: p.organizations }, () => ({
    slots: Array.from({ length: p.budget }, () => ({ stamp: undefined })),
    inFlight: 0,
    wcuBySecond: new Map(),
    calls: 0,
  }));
  const containers: Container[] = Array.from({ length: p.containers }, (_, index) => ({
    org: index % p.organizations,
    view: EMPTY_BUDGET_STATE,
    nextAtMs: p.random() * 1_000,
    pending: undefined,
  }));
  const itemBytes = 200 + p.budget * p.bytesPerSlot + p.maxInFlight * 60;
  const wcuPerWrite = Math.ceil(itemBytes / 1024);
  const timing = { windowMs: p.windowMs, clockSkewMs: p.clockSkewMs };
  let acquireWrites = 0;
  let releaseWrites = 0;
  let conflicts = 0;
  const write = (org: Org, atMs: number) => {
    const second = Math.floor(atMs / 1000);
    org.wcuBySecond.set(second, (org.wcuBySecond.get(second) ?? 0) + wcuPerWrite);
  };
  // One event loop over containers, earliest decision first.
  for (;;) {
    let next: Container | undefined;
    for (const container of containers) {
      if (next === undefined || container.nextAtMs < next.nextAtMs) next = container;
    }
    if (next === undefined || next.nextAtMs >= p.durationMs) break;
    const container = next;
    const org = orgs[container.org] as Org;
    const nowMs = container.nextAtMs;
    const view = viewSlots(container.view, p.budget, nowMs, timing);
    if (view.free.length === 0) {
      // Deferred (or a short wait) until the first busy slot frees, as the limiter does.
      if (container.pending !== undefined) {
        const slot = org.slots[container.pending.index] as Slot;
        slot.stamp = container.pending.endMs;
        container.pending = undefined;
        releaseWrites += 1;
        org.inFlight -= 1;
        write(org, nowMs);
        container.view = stateOf(org);
      }
      // As the limiter: wait for one of the slots freeing within a second, at random; further
      // off, defer to one of the busy slots' free times, at random.
      const soon = view.freeTimes.filter((atMs) => atMs <= nowMs + 1_000);
      const from = soon.length > 0 ? soon : view.freeTimes;
      const target = from[Math.floor(p.random() * from.length)] ?? nowMs + 1;
      container.nextAtMs = Math.max(nowMs + 1, target + p.random() * 5);
      continue;
    }
    const choice = view.free[Math.floor(p.random() * view.free.length)];
    if (choice === undefined) break;
    const appliedAtMs = nowMs + p.writeLatencyMs;
    acquireWrites += 1;
    write(org, appliedAtMs);
    const slot = org.slots[choice.index] as Slot;
    const handover = container.pending !== undefined;
    if (slot.stamp !== choice.oldStamp || (!handover && org.inFlight >= p.maxInFlight)) {
      conflicts += slot.stamp !== choice.oldStamp ? 1 : 0;
      container.view = stateOf(org); // the refusal returns the item as it is
      container.nextAtMs = appliedAtMs + (slot.stamp !== choice.oldStamp ? 0 : 250);
      continue;
    }
    if (container.pending !== undefined) {
      (org.slots[container.pending.index] as Slot).stamp = container.pending.endMs;
      container.pending = undefined;
    } else {
      org.inFlight += 1;
    }
    slot.stamp = nowMs + p.holdMs + p.transitMs;
    container.view = stateOf(org);
    org.calls += 1;
    const endMs = appliedAtMs + p.callMs;
    container.pending = { index: choice.index, endMs };
    container.nextAtMs = endMs;
  }
  const booksCalls = orgs.reduce((sum, org) => sum + org.calls, 0);
  const writes = acquireWrites + releaseWrites;
  const perSecond = orgs.flatMap((org) => [...org.wcuBySecond.values()]);
  const seconds = p.durationMs / 1000;
  return {
    booksCalls,
    acquireWrites,
    releaseWrites,
    conflicts,
    conflictsPerBooksCall: conflicts / Math.max(1, booksCalls),
    writesPerBooksCall: writes / Math.max(1, booksCalls),
    wcuPerWrite,
    costPerMillionBooksCallsUsd:
      (writes / Math.max(1, booksCalls)) * wcuPerWrite * ON_DEMAND_USD_PER_MILLION_WRITES,
    meanWcuPerSecondPerItem: (writes * wcuPerWrite) / p.organizations / seconds,
    maxWcuPerSecondPerItem: Math.max(0, ...perSecond),
    utilization: booksCalls / (p.organizations * p.budget * (p.durationMs / p.windowMs)),
  };
};
