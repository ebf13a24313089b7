/**
 * The container's own turnstile in front of an organization's shared in-flight cap.
 *
 * Powertools' BatchProcessor runs the records of a batch in parallel. Without this gate each of
 * them would take a shared in-flight slot in DynamoDB at once, and most would be refused and
 * deferred through SQS for a slot that frees a few hundred milliseconds later. Instead, at most
 * `capacity` calls per organization leave this container at a time; the others wait in memory
 * for one of them to finish. That is not sleeping out a rate limit: they wait for a call of the
 * same invocation, and give up (and defer) after `maxWaitMs`.
 *
 * A finished call hands its in-flight lease straight to the next waiter, so a busy container
 * renews one lease from call to call and writes a release only when its queue runs dry.
 */

/** What a caller receives when it passes the gate: possibly a lease handed over to it. */
export interface GateTicket<Lease> {
  readonly lease: Lease | undefined;
}

export interface LocalGate<Lease> {
  /**
   * Resolves when the caller may go: at once while fewer than `capacity` callers are inside,
   * else when one leaves. Resolves to `undefined` if no one left within `maxWaitMs`.
   */
  enter(): Promise<GateTicket<Lease> | undefined>;
  /**
   * Leaves the gate. If someone is waiting, it enters in the caller's place with `lease` and
   * this returns true; otherwise the place is freed and this returns false (the caller must
   * then give `lease` back itself).
   */
  leave(lease: Lease | undefined): boolean;
  /** Callers inside (for tests). */
  readonly inside: () => number;
  /** Callers waiting (for tests). */
  readonly waiting: () => number;
}

interface Waiter<Lease> {
  readonly resolve: (ticket: GateTicket<Lease> | undefined) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

export const createLocalGate = <Lease>(capacity: number, maxWaitMs: number): LocalGate<Lease> => {
  let inside = 0;
  const waiters: Waiter<Lease>[] = [];
  return {
    enter() {
      if (inside < capacity) {
        inside += 1;
        return Promise.resolve({ lease: undefined });
      }
      return new Promise((resolve) => {
        const waiter: Waiter<Lease> = {
          resolve,
          timer: setTimeout(() => {
            const index = waiters.indexOf(waiter);
            if (index >= 0) waiters.splice(index, 1);
            resolve(undefined);
          }, maxWaitMs),
        };
        // A waiting record must not keep a finished process (a test, local mode) alive.
        waiter.timer.unref?.();
        waiters.push(waiter);
      });
    },
    leave(lease) {
      const next = waiters.shift();
      if (next === undefined) {
        inside = Math.max(0, inside - 1);
        return false;
      }
      clearTimeout(next.timer);
      next.resolve({ lease });
      return true;
    },
    inside: () => inside,
    waiting: () => waiters.length,
  };
};
