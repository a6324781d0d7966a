/**
 * Shared fixtures for the unit tests: the repository's sample flow files, read straight from
 * disk (not through the catalog under test), and a deep copy helper so tests can mutate them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FlowFile, FlowMachine } from '../../src/flows/core/types';
import { validateFlowMachine } from '../../src/flows/validate';

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
