/**
 * Session drivers shared by the integration tests: run the sample flows step by step through
 * the SessionGateway and the sandboxes, exactly as a device would.
 */
import { request } from 'undici';
import type { SessionGateway } from '../../src/api/session-gateway';
import type { FlowDefinition, FlowMachine } from '../../src/flows/core/types';
import { validateFlowMachine } from '../../src/flows/validate';
import type { StepAnswer } from '../../src/contract/session';
import { sessionWorkflowId } from '../../src/session-secret';
import type { Stack } from './stack';

export const IDENTITY = { name: 'Sandbox Test User', birthDate: '26-12-1985' };
export const BANK = { accountNumber: '123456789012', ifsc: 'HDFC0001234' };

/** Two input stages, the second with a way BACK to the first (issue 28, item 4). */
export const TWO_FORMS: FlowMachine = {
  id: 'two-forms',
  initial: 'name',
  states: {
    name: { meta: { stage: 'input', schema: { type: 'object', properties: { name: { type: 'string' } } } }, on: { SUBMIT: 'contact' } },
    contact: { meta: { stage: 'input', schema: { type: 'object', properties: { email: { type: 'string' } } } }, on: { SUBMIT: 'done', BACK: 'name' } },
    done: { type: 'final', meta: { outcome: 'success' } },
  },
};

/** A test-only flow, checked like the loader checks flow files. */
export function inlineFlow(machine: FlowMachine, maxSteps = 50): FlowDefinition {
  const problems = validateFlowMachine(machine);
  if (problems.length > 0) throw new Error(`invalid test flow: ${problems.join('; ')}`);
  return { flowId: machine.id, snapshotId: null, maxSteps, machine };
}

export async function sandboxCall(stack: Stack, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
  const answer = await request(`${stack.sandbox.url}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await answer.body.text();
  if (answer.statusCode >= 300) throw new Error(`sandbox ${method} ${path} answered ${answer.statusCode}: ${text}`);
  return text === '' ? null : JSON.parse(text);
}

/** Plays the user finishing Attestr's flow on the device: the national ID says `output`, or the sandbox's sample person (IDENTITY's name). */
export function completeAttestr(stack: Stack, handshakeId: string, output?: Record<string, unknown>): Promise<unknown> {
  return sandboxCall(stack, 'POST', `/attestr/_device/handshakes/${handshakeId}/complete`, output);
}

/** A kyc-basic session launched and past its identity step: at the Aadhaar stage, Attestr's handshake open. */
export async function kycAtAadhaar(stack: Stack, tag: string, identity: typeof IDENTITY = IDENTITY) {
  const gateway: SessionGateway = stack.gateway;
  const { sessionId } = await gateway.create({ tenantId: 'tenant-a', tag, definition: stack.definition('kyc-basic') });
  const launch = await gateway.launch(sessionId);
  const answer = await gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'identity', input: identity });
  return { sessionId, identity: answer, handshakeId: String(answer.data.handshakeId), workflowId: sessionWorkflowId(sessionId) };
}

export async function runKycBasic(stack: Stack, tag: string): Promise<{ sessionId: string; answers: StepAnswer[] }> {
  const gateway: SessionGateway = stack.gateway;
  const { sessionId, identity, handshakeId } = await kycAtAadhaar(stack, tag);
  await completeAttestr(stack, handshakeId);
  const aadhaar = await gateway.submitStep(sessionId, { nonce: identity.nonce!, step: 'aadhaar', input: {} });
  const bank = await gateway.submitStep(sessionId, { nonce: aadhaar.nonce!, step: 'bank', input: BANK });
  return { sessionId, answers: [identity, aadhaar, bank] };
}

export async function runConsentOnly(stack: Stack, tag: string, accepted = true): Promise<string> {
  const { sessionId } = await stack.gateway.create({ tenantId: 'tenant-a', tag, definition: stack.definition('consent-only') });
  const launch = await stack.gateway.launch(sessionId);
  await stack.gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'consent', input: { accepted } });
  return sessionId;
}

/** A note typed by the device, then a review that shows it: approved or rejected, each its own end. */
export function reviewed(sla?: string, id = 'reviewed'): FlowMachine {
  return {
    id,
    initial: 'details',
    states: {
      details: {
        meta: { stage: 'input', schema: { type: 'object', properties: { note: { type: 'string' } }, required: ['note'], additionalProperties: false } },
        on: { SUBMIT: 'check' },
      },
      check: {
        meta: { stage: 'review', title: "We're checking your details", reasons: ['doubt', 'other'], show: ['details.input.note'], ...(sla ? { sla } : {}) },
        on: { APPROVED: 'approved', REJECTED: 'rejected' },
      },
      approved: { type: 'final', meta: { outcome: 'success' } },
      rejected: { type: 'final', meta: { outcome: 'error' } },
    },
  };
}
