/**
 * The worker's part of tracing (docs/guides/tracing.md): Temporal's OpenTelemetry interceptors
 * for activities (a span per attempt, the child of the workflow's span that scheduled it), and the
 * sink that takes the workflow's spans out of its sandbox.
 *
 * The workflow interceptors (src/workflows/tracing.ts) run inside the sandbox, so they are part
 * of the workflow bundle and of its build id: a worker with tracing runs another build than one
 * without (docs/guides/tracing.md, "Tracing and Worker Versioning"). The bundle is unchanged
 * when tracing is off.
 */
import type { WorkflowInfo } from '@temporalio/workflow';
import type { InjectedSinks, WorkerOptions } from '@temporalio/worker';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  type OpenTelemetrySinks,
} from '@temporalio/interceptors-opentelemetry';
import type { Tracing } from '../tracing';

/** The workflow interceptors module (src/workflows/tracing.ts), under a source root. */
export const WORKFLOW_TRACING_MODULE = 'src/workflows/tracing.ts';

/** Whether a workflow bundle has the tracing interceptors in it (webpack names its modules by path). */
export function isTracedBundle(code: string): boolean {
  return code.includes(`"./${WORKFLOW_TRACING_MODULE}"`);
}

/**
 * The sink the workflow's spans leave the sandbox by. Temporal's exporter would copy the whole
 * workflow info (memo and search attributes included) onto every span: only the type and the id
 * are passed on, and src/tracing.ts filters them again. The sink is called as soon as the worker
 * has run the activation (not on replay), so the time it is called is when the workflow task's
 * work was done: inside the sandbox the clock stands still at the task's start.
 */
function workflowSpanSinks(tracing: Tracing): InjectedSinks<OpenTelemetrySinks> {
  const exporter = makeWorkflowExporter(tracing.processor, tracing.resource);
  return {
    exporter: {
      export: {
        fn: (info, spans) => {
          const attributes = { temporalWorkflowType: info.workflowType, temporalWorkflowId: info.workflowId, 'sessionflow.activation_done_unix_ms': Date.now() };
          return exporter.export.fn(attributes as unknown as WorkflowInfo, spans);
        },
      },
    },
  };
}

/** The Worker options that trace: activity interceptors, and the workflow spans' sink. */
export function tracedWorkerOptions(tracing: Tracing): Pick<WorkerOptions, 'sinks'> & { interceptors: { activity: NonNullable<NonNullable<WorkerOptions['interceptors']>['activity']> } } {
  return {
    sinks: workflowSpanSinks(tracing),
    interceptors: {
      activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
    },
  };
}
