/**
 * The SessionRunner's effects as the workflow performs them: Temporal's current details and
 * search attributes, the provider activities, durable timers, and the worker's metrics. Unit
 * tests hand the runner fakes instead.
 */
import { metricMeter, setCurrentDetails } from '@temporalio/workflow';
import { fetchAttestrResult, prepareStage, runStage } from '../providers';
import type { InboundGuard } from './inbound';
import type { SessionModel } from './model';
import type { RunnerEffects } from './runner';
import { reportPosition, reportReview } from './search-attributes';
import { SessionTimers } from './timers';

export function workflowEffects(session: SessionModel, inbound: InboundGuard): RunnerEffects {
  // Counted by the worker's SDK meter, which skips replays: each session once, when its flow ends.
  const finished = metricMeter.createCounter('sessionflow_sessions_finished', undefined, 'Sessions whose flow ended, by outcome');
  const refusedProofs = metricMeter.createCounter('sessionflow_refused_proofs', undefined, 'Device updates refused for a failed proof (forged, or a spent nonce), by update');
  return {
    showDetails: setCurrentDetails,
    reportPosition: (position) => {
      if (position.status === 'consumed' && position.outcome !== null) finished.add(1, { outcome: position.outcome });
      reportPosition(session, position);
    },
    prepareStage,
    runStage,
    fetchAttestrResult,
    proveEvent: (event) => inbound.eventProven(event),
    proveReview: (args) => inbound.reviewProven(args),
    reportReview,
    timers: (on) => new SessionTimers(session, on),
    proofRefused: (update) => refusedProofs.add(1, { update }),
  };
}
