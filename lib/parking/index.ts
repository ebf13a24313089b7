export {
  breakerShelf,
  createParkedWorkStore,
  type ParkCondition,
  type ParkedMessage,
  type ParkedWorkStore,
  type ParkedWorkStoreDeps,
  SCHEDULED_SHELF,
  type WorkToPark,
} from './parked-work-store';
export {
  type ReleaseParkedWorkDeps,
  type ReleaseParkedWorkResult,
  releaseParkedWork,
} from './release-parked-work';
