import type { OrgState, SimulatorState } from './state';
import type {
  AccountsStats,
  CallbackDelivery,
  RequestLogEntry,
  SimulatorStats,
  WindowStats,
} from './types';

/** Counters of one organization; `dailyUsed` is read from the limit state instead. */
export interface OrgStatsState {
  calls: number;
  readonly byStatus: Map<string, number>;
  tooManyRequests: number;
  maxInFlightObserved: number;
  maxCallsInAnyWindow: number;
  /** Most quota-consuming calls in any span of the window's length, wherever it starts. */
  maxCallsInAnySpan: number;
  readonly windows: { startMs: number; calls: number }[];
  /** When each quota-consuming call was admitted, oldest first (the last 100,000). */
  readonly callTimes: number[];
  /** Index in `callTimes` of the oldest call inside the span ending at the latest call. */
  spanStart: number;
}

export type AccountsCounter = keyof AccountsStats;

export interface StatsState {
  readonly accounts: Record<AccountsCounter, number>;
  readonly accountsByClientId: Map<string, Record<AccountsCounter, number>>;
  readonly requests: RequestLogEntry[];
  /** Notification API callbacks sent, oldest first. */
  readonly callbacks: CallbackDelivery[];
}

const MAX_LOGGED_REQUESTS = 10_000;
const MAX_LOGGED_CALLBACKS = 1_000;
const MAX_WINDOWS = 10_000;
const MAX_CALL_TIMES = 100_000;

export const createOrgStats = (): OrgStatsState => ({
  calls: 0,
  byStatus: new Map(),
  tooManyRequests: 0,
  maxInFlightObserved: 0,
  maxCallsInAnyWindow: 0,
  maxCallsInAnySpan: 0,
  windows: [],
  callTimes: [],
  spanStart: 0,
});

export const createAccountsStats = (): Record<AccountsCounter, number> => ({
  tokenRequests: 0,
  tokensIssued: 0,
  accessDenied: 0,
  invalidClient: 0,
  invalidCode: 0,
});

export const countAccounts = (
  state: SimulatorState,
  counter: AccountsCounter,
  clientId: string | undefined,
): void => {
  state.stats.accounts[counter] += 1;
  if (clientId === undefined || clientId === '') return;
  let perClient = state.stats.accountsByClientId.get(clientId);
  if (!perClient) {
    perClient = createAccountsStats();
    state.stats.accountsByClientId.set(clientId, perClient);
  }
  perClient[counter] += 1;
};

/** A Books call of this organization answered with `status` (or dropped). */
export const countOrgResponse = (org: OrgState, status: number | 'dropped'): void => {
  const stats = org.stats;
  stats.calls += 1;
  const key = String(status);
  stats.byStatus.set(key, (stats.byStatus.get(key) ?? 0) + 1);
  if (status === 429) stats.tooManyRequests += 1;
};

/**
 * A quota-consuming call at `atMs`. A fixed minute counts it in its window (`windowStartMs`); a
 * sliding one has no windows of its own, so `windows` then lists epoch-aligned spans for reading
 * and `maxCallsInAnyWindow` is the sliding count. Either way `maxCallsInAnySpan` checks every
 * span of the window's length: the reading-independent question "was any span over budget?".
 */
export const countWindowCall = (
  org: OrgState,
  windowStartMs: number,
  atMs: number,
  sliding: boolean,
): void => {
  const stats = org.stats;
  const windowMs = org.windowSeconds * 1000;
  const listedStartMs = sliding ? Math.floor(atMs / windowMs) * windowMs : windowStartMs;
  const windows = stats.windows;
  let current = windows.at(-1);
  if (current?.startMs !== listedStartMs) {
    current = { startMs: listedStartMs, calls: 0 };
    windows.push(current);
    if (windows.length > MAX_WINDOWS) windows.shift();
  }
  current.calls += 1;
  const times = stats.callTimes;
  times.push(atMs);
  if (times.length > MAX_CALL_TIMES) {
    times.shift();
    stats.spanStart = Math.max(0, stats.spanStart - 1);
  }
  while ((times[stats.spanStart] ?? atMs) <= atMs - windowMs) stats.spanStart += 1;
  const inSpan = times.length - stats.spanStart;
  stats.maxCallsInAnySpan = Math.max(stats.maxCallsInAnySpan, inSpan);
  stats.maxCallsInAnyWindow = Math.max(
    stats.maxCallsInAnyWindow,
    sliding ? org.limits.windowCalls : current.calls,
  );
};

export const logRequest = (state: SimulatorState, entry: RequestLogEntry): void => {
  const log = state.stats.requests;
  log.push(entry);
  if (log.length > MAX_LOGGED_REQUESTS) log.splice(0, log.length - MAX_LOGGED_REQUESTS);
};

/** A Notification API callback that was answered (or failed). */
export const logCallback = (state: SimulatorState, delivery: CallbackDelivery): void => {
  const log = state.stats.callbacks;
  log.push(delivery);
  if (log.length > MAX_LOGGED_CALLBACKS) log.splice(0, log.length - MAX_LOGGED_CALLBACKS);
};

export const resetStats = (state: SimulatorState): void => {
  state.stats = {
    accounts: createAccountsStats(),
    accountsByClientId: new Map(),
    requests: [],
    callbacks: [],
  };
  for (const org of state.orgs.values()) org.stats = createOrgStats();
};

export const snapshotStats = (state: SimulatorState): SimulatorStats => {
  const organizations: Record<string, SimulatorStats['organizations'][string]> = {};
  const today = Math.floor(state.now() / 86_400_000);
  for (const org of state.orgs.values()) {
    const s = org.stats;
    organizations[org.organizationId] = {
      calls: s.calls,
      byStatus: Object.fromEntries(s.byStatus),
      tooManyRequests: s.tooManyRequests,
      maxInFlightObserved: s.maxInFlightObserved,
      maxCallsInAnyWindow: s.maxCallsInAnyWindow,
      maxCallsInAnySpan: s.maxCallsInAnySpan,
      callTimes: [...s.callTimes],
      windows: s.windows.map((w): WindowStats => ({ ...w })),
      dailyUsed: org.limits.dayIndex === today ? org.limits.dayCalls : 0,
    };
  }
  return {
    organizations,
    accounts: {
      total: { ...state.stats.accounts },
      byClientId: Object.fromEntries(
        [...state.stats.accountsByClientId].map(([id, counters]) => [id, { ...counters }]),
      ),
    },
    requests: state.stats.requests.map((r) => ({ ...r })),
    callbacks: state.stats.callbacks.map((c) => ({ ...c, crmRecordIds: [...c.crmRecordIds] })),
  };
};
