export {
  createReconcileCursorStore,
  type ReconcileCursor,
  type ReconcileCursorStore,
} from './cursor-store';
export {
  DEFAULT_LOOKBACK_MS,
  DEFAULT_MAX_PAGES,
  type ReconcileResult,
  type ReconcileSweepDeps,
  type ReconcileSweepOptions,
  type ReconcileSweepSummary,
  reconcileSweep,
} from './reconcile-sweep';
export { createReconcileSweepDeps, type ReconcileSweepRuntime } from './reconcile-sweep-deps';
