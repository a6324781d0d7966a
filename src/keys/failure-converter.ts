/**
 * Loaded by path into the workflow bundle and the worker (Temporal's failureConverterPath):
 * failure messages and stack traces are encoded payloads, so the codec encrypts them.
 * No Node built-ins here: this file runs inside the workflow sandbox.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
