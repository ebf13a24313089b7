export {
  createDeadLetterQueue,
  type DeadLetter,
  type DeadLetterQueue,
  type DeadLetterQueueDeps,
  type RedriveResult,
} from './dead-letter-queue';
export { explainDeadLetter, summarizeDeadLetter } from './explain-dead-letter';
