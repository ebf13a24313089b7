/**
 * Fault injection: make chosen calls fail the way real networks and real Zoho sometimes do
 * (a 500, an odd error body, a dropped connection, a slow answer), either one by one
 * (`inject`) or as a seeded campaign (`seed`) that a chaos run can replay exactly.
 */
import { createHash } from 'node:crypto';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import * as z from 'zod';
import { booksErrors } from './books-errors';
import { crmErrors } from './crm';
import type { FaultSpec } from './types';

/** The faults a seeded campaign draws from; each has a chance per admitted call. */
export const SEEDED_FAULT_KINDS = [
  'server-error',
  'timeout',
  'dropped-connection',
  'too-many-requests',
  'slow',
] as const;
export type SeededFaultKind = (typeof SEEDED_FAULT_KINDS)[number];

/**
 * A seeded fault campaign. Whether a call is faulted is a pure function of the seed, the call
 * (method, path, query and body) and how many times that same call was made before, so the
 * same seed faults the same calls of the same records however concurrent workers interleave.
 */
export interface SeededFaultPlan {
  readonly seed: number;
  /** Chance (0..1) per call of each fault; the kinds are drawn in SEEDED_FAULT_KINDS order. */
  readonly rates: Readonly<Partial<Record<SeededFaultKind, number>>>;
  /** How long a `timeout` holds the answer: more than the client waits. @default 12_000 */
  readonly timeoutMs?: number;
  /** How long a `slow` answer takes: less than the client waits. @default 800 */
  readonly slowMs?: number;
  /** Only calls for these Books organizations (CRM and Accounts calls are never faulted then). */
  readonly organizationIds?: readonly string[];
  /** Only calls whose path matches (a RegExp source). @default every Books, CRM and token call */
  readonly pathPattern?: string;
}

/** Books and CRM error bodies as Zoho documents them (zoho-books-api.md §4, zoho-crm-api.md). */
const seededResponse = (kind: 'server-error' | 'too-many-requests', path: string) => {
  const crm = path.startsWith('/crm/');
  if (kind === 'server-error') return crm ? crmErrors.internalError() : booksErrors.internalError();
  return crm ? crmErrors.tooManyRequests() : booksErrors.windowLimit();
};

const seededFaultSpec = (
  kind: SeededFaultKind,
  path: string,
  plan: SeededFaultPlan,
): FaultSpec | undefined => {
  const isTokenCall = path.startsWith('/oauth/');
  switch (kind) {
    case 'server-error':
    case 'too-many-requests':
      // Zoho Accounts documents no 500 or 429 body for the token endpoint; Books and CRM do.
      return isTokenCall ? undefined : { response: seededResponse(kind, path) };
    case 'timeout':
      return { delayMs: plan.timeoutMs ?? 12_000 };
    case 'dropped-connection':
      return { dropConnection: true };
    case 'slow':
      return { delayMs: plan.slowMs ?? 800 };
  }
};

/** A deterministic number in [0, 1) for the n-th occurrence of one call under one seed. */
const draw = (seed: number, callKey: string, occurrence: number): number => {
  const digest = createHash('sha256').update(`${seed}:${occurrence}:${callKey}`).digest();
  return uniformFloat64(xoroshiro128plus(digest.readInt32BE(0)));
};

interface ActiveFault {
  readonly id: string;
  readonly spec: FaultSpec;
  readonly pattern: RegExp | undefined;
  remaining: number;
}

/** What the admin state shows of a fault. */
export interface FaultSummary {
  readonly id: string;
  readonly method?: string;
  readonly pathPattern?: string;
  readonly organizationId?: string;
  readonly remaining: number | 'Infinity';
  readonly status?: number;
  readonly dropConnection?: boolean;
  readonly delayMs?: number;
}

export interface FaultRegistry {
  inject(spec: FaultSpec): string;
  remove(faultId: string): void;
  clear(): void;
  /** Starts (or, with undefined, stops) a seeded fault campaign; its counters start at 0. */
  seed(plan: SeededFaultPlan | undefined): void;
  /**
   * The first fault matching this call, with one of its `times` spent; else the seeded
   * campaign's draw for it. `identity` is the call's query and body (what makes it this call).
   */
  take(
    method: string,
    path: string,
    organizationId: string | undefined,
    identity?: string,
  ): FaultSpec | undefined;
  list(): FaultSummary[];
  /** Faults the seeded campaign injected, by kind. */
  seededCounts(): Record<SeededFaultKind, number>;
}

const validate = (spec: FaultSpec): void => {
  const times = spec.times ?? Number.POSITIVE_INFINITY;
  if (!(times === Number.POSITIVE_INFINITY || (Number.isInteger(times) && times > 0))) {
    throw new Error(`fault times must be a positive integer or Infinity, got ${spec.times}`);
  }
  const status = spec.response?.status;
  if (status !== undefined && !(Number.isInteger(status) && status >= 100 && status <= 599)) {
    throw new Error(`fault response status must be an HTTP status, got ${status}`);
  }
  if (spec.delayMs !== undefined && !(spec.delayMs >= 0)) {
    throw new Error(`fault delayMs must be >= 0, got ${spec.delayMs}`);
  }
  if (spec.response === undefined && !spec.dropConnection && spec.delayMs === undefined) {
    throw new Error('a fault needs a response, dropConnection or delayMs');
  }
};

const zeroCounts = (): Record<SeededFaultKind, number> =>
  Object.fromEntries(SEEDED_FAULT_KINDS.map((kind) => [kind, 0])) as Record<
    SeededFaultKind,
    number
  >;

export const createFaultRegistry = (): FaultRegistry => {
  const faults: ActiveFault[] = [];
  let sequence = 0;
  let campaign:
    | {
        plan: SeededFaultPlan;
        pattern: RegExp | undefined;
        occurrences: Map<string, number>;
        counts: Record<SeededFaultKind, number>;
      }
    | undefined;

  const takeSeeded = (
    method: string,
    path: string,
    organizationId: string | undefined,
    identity: string,
  ): FaultSpec | undefined => {
    if (campaign === undefined) return undefined;
    const { plan } = campaign;
    if (
      plan.organizationIds !== undefined &&
      !plan.organizationIds.includes(organizationId ?? '')
    ) {
      return undefined;
    }
    if (campaign.pattern !== undefined && !testPattern(campaign.pattern, path)) return undefined;
    const callKey = `${method.toUpperCase()} ${path} ${organizationId ?? ''} ${identity}`;
    const occurrence = campaign.occurrences.get(callKey) ?? 0;
    campaign.occurrences.set(callKey, occurrence + 1);
    let threshold = 0;
    const roll = draw(plan.seed, callKey, occurrence);
    for (const kind of SEEDED_FAULT_KINDS) {
      threshold += plan.rates[kind] ?? 0;
      if (roll < threshold) {
        const spec = seededFaultSpec(kind, path, plan);
        if (spec !== undefined) campaign.counts[kind] += 1;
        return spec;
      }
    }
    return undefined;
  };

  return {
    seed(plan) {
      if (plan === undefined) {
        campaign = undefined;
        return;
      }
      const total = SEEDED_FAULT_KINDS.reduce((sum, kind) => sum + (plan.rates[kind] ?? 0), 0);
      if (!(total >= 0 && total <= 1)) {
        throw new Error(`seeded fault rates must add up to at most 1, got ${total}`);
      }
      campaign = {
        plan,
        pattern: plan.pathPattern === undefined ? undefined : new RegExp(plan.pathPattern),
        occurrences: new Map(),
        counts: zeroCounts(),
      };
    },
    seededCounts() {
      return { ...(campaign?.counts ?? zeroCounts()) };
    },
    inject(spec) {
      validate(spec);
      sequence += 1;
      const id = `fault-${sequence}`;
      const pattern =
        spec.pathPattern === undefined
          ? undefined
          : typeof spec.pathPattern === 'string'
            ? new RegExp(spec.pathPattern)
            : spec.pathPattern;
      faults.push({ id, spec, pattern, remaining: spec.times ?? Number.POSITIVE_INFINITY });
      return id;
    },
    remove(faultId) {
      const index = faults.findIndex((f) => f.id === faultId);
      if (index >= 0) faults.splice(index, 1);
    },
    clear() {
      faults.length = 0;
    },
    take(method, path, organizationId, identity = '') {
      const index = faults.findIndex(
        (f) =>
          (f.spec.method === undefined || f.spec.method.toUpperCase() === method.toUpperCase()) &&
          (f.pattern === undefined || testPattern(f.pattern, path)) &&
          (f.spec.organizationId === undefined || f.spec.organizationId === organizationId),
      );
      const fault = faults[index];
      if (!fault) return takeSeeded(method, path, organizationId, identity);
      fault.remaining -= 1;
      if (fault.remaining <= 0) faults.splice(index, 1);
      return fault.spec;
    },
    list() {
      return faults.map((f) => ({
        id: f.id,
        ...(f.spec.method === undefined ? {} : { method: f.spec.method }),
        ...(f.pattern === undefined ? {} : { pathPattern: f.pattern.source }),
        ...(f.spec.organizationId === undefined ? {} : { organizationId: f.spec.organizationId }),
        remaining: Number.isFinite(f.remaining) ? f.remaining : 'Infinity',
        ...(f.spec.response === undefined ? {} : { status: f.spec.response.status }),
        ...(f.spec.dropConnection === undefined ? {} : { dropConnection: f.spec.dropConnection }),
        ...(f.spec.delayMs === undefined ? {} : { delayMs: f.spec.delayMs }),
      }));
    },
  };
};

// A global or sticky RegExp keeps state between test() calls; reset it so matching is stable.
const testPattern = (pattern: RegExp, path: string): boolean => {
  pattern.lastIndex = 0;
  return pattern.test(path);
};

/** A FaultSpec sent as JSON to `POST /__simulator/faults` (pathPattern is a RegExp source). */
export const faultSpecJsonSchema = z.strictObject({
  method: z.string().min(1).optional(),
  pathPattern: z.string().min(1).optional(),
  organizationId: z.string().min(1).optional(),
  times: z.number().int().positive().optional(),
  response: z
    .strictObject({
      status: z.number().int().min(100).max(599),
      body: z.unknown().optional(),
      headers: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  dropConnection: z.boolean().optional(),
  delayMs: z.number().nonnegative().optional(),
});
