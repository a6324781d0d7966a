/**
 * Shared fixtures for the unit tests: the repository's sample flow files, read straight from
 * disk (not through the catalog under test), and a deep copy helper so tests can mutate them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FlowFile, FlowMachine } from '../../src/flows/core/types';
import { validateFlowMachine } from '../../src/flows/validate';
import type { SessionInput } from '../../src/contract/session-state';

export const REPO_ROOT = join(__dirname, '..', '..');
export const FLOWS_DIR = join(REPO_ROOT, 'flows');

export function sampleFlowText(id: 'consent-only' | 'kyc-basic'): string {
  return readFileSync(join(FLOWS_DIR, `${id}.json`), 'utf8');
}

export function sampleFlow(id: 'consent-only' | 'kyc-basic'): FlowFile {
  return JSON.parse(sampleFlowText(id)) as FlowFile;
}

export function sampleDraft(id: 'consent-only' | 'kyc-basic'): FlowMachine {
  return sampleFlow(id).draft;
}

/** A personal-looking value that must never show up in a message meant for logs. */
export const DISTINCTIVE = 'Zebediah Quixotefield';

/** The loader's problems with a fresh copy of `base()` once `change` broke it. */
export function problemsOfChanged<M>(base: () => M, change: (machine: M) => void): string[] {
  const machine = base();
  change(machine);
  return validateFlowMachine(machine);
}
/** A session's input as the api makes it (without a seal), for the SessionModel's unit tests. */
export function sessionInputOf(machine: FlowMachine, createdAt: number, snapshotId: string | null = null): SessionInput {
  return {
    sessionId: 'ses_0001',
    number: '3897-518104-8640',
    clientId: 'client-1',
    tag: 'REF-42',
    webhook: false,
    definition: { flowId: machine.id, snapshotId, maxSteps: 50, machine },
    createdAt,
    expiresAt: createdAt + 24 * 3600 * 1000,
  };
}

