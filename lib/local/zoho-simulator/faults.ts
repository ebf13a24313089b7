/**
 * Fault injection: make chosen calls fail the way real networks and real Zoho sometimes do
 * (a 500, an odd error body, a dropped connection, a slow answer).
 */
import * as z from 'zod';
import type { FaultSpec } from './types';

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
  /** The first fault matching this call, with one of its `times` spent. */
  take(method: string, path: string, organizationId: string | undefined): FaultSpec | undefined;
  list(): FaultSummary[];
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

export const createFaultRegistry = (): FaultRegistry => {
  const faults: ActiveFault[] = [];
  let sequence = 0;
  return {
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
    take(method, path, organizationId) {
      const index = faults.findIndex(
        (f) =>
          (f.spec.method === undefined || f.spec.method.toUpperCase() === method.toUpperCase()) &&
          (f.pattern === undefined || testPattern(f.pattern, path)) &&
          (f.spec.organizationId === undefined || f.spec.organizationId === organizationId),
      );
      const fault = faults[index];
      if (!fault) return undefined;
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
