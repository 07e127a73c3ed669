/**
 * The configuration as a file (`oncall apply`, `oncall export`) and as the events it stands for:
 * parsing, every check (schemas, references, users, templates), the plan of events and their
 * append. The gRPC API's configuration writes go through the same checks.
 */
export * from './file.js';
export { applyConfig, planApply, subjectOf, type ApplyOptions, type PlannedEvent, type PlanOptions } from './apply.js';
export { validateTemplate } from './template-check.js';
