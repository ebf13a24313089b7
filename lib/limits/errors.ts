import { ZohoSyncError } from '../errors';

/** Which budget turned a call away. */
export type BudgetKind =
  /** The organization's requests for the current rate-limit window are spent. */
  | 'window'
  /** `maxConcurrency` calls of the organization are already in flight. */
  | 'in-flight'
  /** The daily quota (ours, or Zoho's remaining count) is spent. */
  | 'daily-quota';

/**
 * Thrown by the request limiter (`acquire`, `precheck`) when a Books call may not be made now.
 * Its disposition is `defer`: the worker re-sends the message with a delay of `retryAfterMs`
 * (when the budget frees: the window's end, a freed in-flight slot, the next quota day) and
 * acknowledges the original, or parks it when the wait is longer than SQS allows. It is never
 * a failure and never alerted.
 */
export class BudgetExhaustedError extends ZohoSyncError {
  override readonly name = 'BudgetExhaustedError';
  readonly budget: BudgetKind;
  readonly booksOrganizationId: string;
  override readonly retryAfterMs: number;

  constructor(budget: BudgetKind, booksOrganizationId: string, retryAfterMs: number) {
    const waitMs = Math.max(0, Math.ceil(retryAfterMs));
    super(
      `Zoho Books ${budget} budget of organization ${booksOrganizationId} is spent; retry in ${waitMs} ms`,
      { disposition: 'defer', retryAfterMs: waitMs },
    );
    this.budget = budget;
    this.booksOrganizationId = booksOrganizationId;
    this.retryAfterMs = waitMs;
  }
}

export const isBudgetExhaustedError = (error: unknown): error is BudgetExhaustedError =>
  error instanceof BudgetExhaustedError;
