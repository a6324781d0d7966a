// The workflows the worker bundles. Deterministic code only below this folder.
export { sessionWorkflow } from './session';
export { deviceClientWorkflow } from './device-client';
export { webhookOutboxWorkflow } from './webhook-outbox';
export { shredSessionWorkflow } from './shred';
