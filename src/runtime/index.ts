export {
  defineEntity,
  isEntityDefinition,
  type EntityContext,
  type EntityDefinition,
  type EntityOperation,
  type OperationsEntityDefinition,
  type DispatchEntityDefinition,
  type ValidatedOperation,
  type OperationSpec,
  type InputSchema,
} from "./define-entity.js";
export { EntityRuntime, notLocal, scheduleSignal, SIGNAL_TIMER, type EntityRuntimeOptions } from "./entity-runtime.js";
export { LOCK_OP, RELEASE_OP, sameHolder, type LockHolderCheck } from "./entity-locks.js";
export { CLEAN_OP, DELETE_OP, deleteRequest, type CleanOutcome, type DeleteOutcome, type Maintenance } from "./entity-maintenance.js";
export { cleanEntities, MAX_REPORTED_IDS, type CleanOptions, type CleanReport } from "./entity-cleaning.js";
export { EntityRegistry } from "./entity-registry.js";
export type { EntityChange, OperationKind, OperationRequest, Outcome, ReplyTarget } from "./operation-request.js";
export { cloneJson, jsonEqual } from "./json-value.js";
export { CommitPipeline, COMMIT_FAILED, INSTANCE_TIMER, type CommitPipelineOptions, type TickContext, type TickParticipant, type TickRelease, type TimerHandler } from "./commit-pipeline.js";
export { systemClock, type Clock } from "./clock.js";
export { SignalMarks } from "./signal-marks.js";
export { TimerService } from "./timer-service.js";
