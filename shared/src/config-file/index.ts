/**
 * The configuration as a file (`oncall apply`, `oncall export`) and as the events it stands for:
 * parsing, every check (schemas, references, users, templates), the plan of events and their
 * append. The gRPC API's configuration writes go through the same checks.
 */
export * from './file.js';
export {
  apiActor,
  APPLY_ACTOR,
  applyConfig,
  appendPlanned,
  ConfigDriftError,
  driftOf,
  planApply,
  subjectOf,
  type ApplyOptions,
  type Drift,
  type PlannedEvent,
  type PlanOptions,
} from './apply.js';
export { exportConfig, fileInput, formatDuration } from './export.js';
export {
  checkedEdit,
  ConfigEditError,
  editConfig,
  planEdit,
  type ConfigEdit,
  type EditIssue,
  type EditOptions,
  type PruneTarget,
} from './edit.js';
export { validateTemplate } from './template-check.js';
