/**
 * Admin endpoints under `/__simulator/` for scripts and local mode. They are not Zoho's: no
 * authentication, no limits, not counted and not logged.
 *
 *   GET    /state              organizations (settings + contacts/items/invoices), CRM records,
 *                              Notification API channels (without token and notify_url query),
 *                              faults and stats
 *   POST   /crm/{module}       body = a CRM record with a numeric `id`: create or replace it
 *   DELETE /crm/{module}/{id}
 *   POST   /faults             body = FaultSpec JSON (pathPattern: a RegExp source) -> 201 {id}
 *   DELETE /faults             clears all; DELETE /faults/{id} removes one
 *   POST   /expire-tokens      every issued access token expires now
 *   POST   /reset-stats
 */
import * as z from 'zod';
import { expireAccessTokens } from './accounts';
import { renderRecord } from './books-records';
import { deleteCrmRecord, putCrmRecord } from './crm';
import { faultSpecJsonSchema } from './faults';
import { json, parseJsonObject, type SimRequest, type SimResponse } from './http-io';
import { snapshotChannels } from './notifications';
import { BOOKS_ENTITIES, type SimulatorState } from './state';
import { resetStats, snapshotStats } from './stats';
import type { CrmRecord } from './types';

export const ADMIN_ROOT = '/__simulator';

const crmRecordSchema = z.looseObject({
  id: z.string().regex(/^\d+$/, 'must be a numeric string'),
});

const badRequest = (message: string) => json(400, { error: message });
const ok = (body: Record<string, unknown> = {}) => json(200, { status: 'ok', ...body });

const issues = (error: z.ZodError) =>
  error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');

export const snapshotState = (state: SimulatorState) => ({
  organizations: [...state.orgs.values()].map((org) => ({
    organizationId: org.organizationId,
    plan: org.plan,
    dailyLimit: org.dailyLimit,
    requestsPerWindow: org.requestsPerWindow,
    windowSeconds: org.windowSeconds,
    minute: org.minute,
    maxConcurrency: org.maxConcurrency,
    ...Object.fromEntries(
      BOOKS_ENTITIES.map((entity) => [
        entity,
        [...org.books[entity].records.values()].map((r) => renderRecord(org.books[entity], r)),
      ]),
    ),
  })),
  crm: Object.fromEntries(
    [...state.crm].map(([module, records]) => [module, [...records.values()]]),
  ),
  // The token and notify_url's query are secrets of the subscriber: not shown.
  notificationChannels: snapshotChannels(state).map(({ token: _token, notifyUrl, ...channel }) => {
    const url = new URL(notifyUrl);
    return { ...channel, notifyUrl: `${url.origin}${url.pathname}` };
  }),
  faults: state.faults.list(),
  stats: snapshotStats(state),
});

export const handleAdminRequest = (state: SimulatorState, req: SimRequest): SimResponse => {
  const [resource, ...rest] = req.path.slice(ADMIN_ROOT.length).split('/').filter(Boolean);
  const route = `${req.method} ${resource ?? ''}`;
  try {
    switch (route) {
      case 'GET state':
        return json(200, snapshotState(state));
      case 'POST crm': {
        const body = parseJsonObject(req.rawBody);
        const parsed = crmRecordSchema.safeParse(body);
        if (rest.length !== 1 || rest[0] === undefined)
          return badRequest('use /__simulator/crm/{module}');
        if (!parsed.success) return badRequest(issues(parsed.error));
        putCrmRecord(state, rest[0], parsed.data as CrmRecord);
        return ok();
      }
      case 'DELETE crm':
        if (rest.length !== 2 || rest[0] === undefined || rest[1] === undefined) {
          return badRequest('use /__simulator/crm/{module}/{id}');
        }
        deleteCrmRecord(state, rest[0], rest[1]);
        return ok();
      case 'POST faults': {
        const parsed = faultSpecJsonSchema.safeParse(parseJsonObject(req.rawBody));
        if (!parsed.success) return badRequest(issues(parsed.error));
        return json(201, { id: state.faults.inject(parsed.data) });
      }
      case 'DELETE faults':
        if (rest[0] === undefined) state.faults.clear();
        else state.faults.remove(rest[0]);
        return ok();
      case 'POST expire-tokens':
        expireAccessTokens(state);
        return ok();
      case 'POST reset-stats':
        resetStats(state);
        return ok();
      default:
        return json(404, { error: `no admin endpoint ${req.method} ${req.path}` });
    }
  } catch (error) {
    // Validation errors of putCrmRecord / inject (unknown module, bad pattern ...).
    return badRequest(error instanceof Error ? error.message : String(error));
  }
};
