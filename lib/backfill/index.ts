export { backfillOutcomeOf, withBackfillProgress } from './backfill-aware-handler';
export {
  type BackfillCheckpoint,
  type BackfillOutcome,
  type BackfillStore,
  createBackfillStore,
  type ModuleCursor,
  type OutcomeCounts,
} from './backfill-store';
export {
  type BackfillDeps,
  type BackfillEta,
  type BackfillOptions,
  type BackfillProgress,
  type BackfillResult,
  backfillRunKey,
  estimate,
  runBackfill,
} from './run-backfill';
