/**
 * A session started before session ids were hashed out of Temporal lives under its id itself.
 * The api still finds it (src/api/legacy-sessions.ts: reads, updates, an Attestr tag naming it
 * by its id, a list), and the count docs/guides/operating.md gives operators finds it, so they
 * know when that file can be deleted.
 */
import { TypedSearchAttributes } from '@temporalio/common';
import { newSessionId } from '../src/api/session-ids';
import { ClientIdKey, FlowIdKey, SessionStatusKey, SessionTagKey } from '../src/contract/session-search';
import type { SessionInput } from '../src/contract/session-state';
import { legacySessionWorkflowId } from '../src/contract/workflow-ids';
import { sessionKeyId } from '../src/keys/key-store';
import { eventually } from './helpers/stack';
import { useStack } from './helpers/use-stack';

const { stack } = useStack('legacy-sessions');

/** The query docs/guides/operating.md "Legacy sessions" gives operators. */
const LEGACY_SESSIONS = "WorkflowType = 'sessionWorkflow' AND WorkflowId STARTS_WITH 'DS'";

test('a session under its legacy workflow id is read, launched, stepped, listed and archived through the api, and counted', async () => {
  const sessionId = newSessionId();
  const workflowId = legacySessionWorkflowId(sessionId);
  const now = Date.now();
  const tag = `REF-legacy-${now}`;
  // As sessions from before were started: the id itself as workflow id and in the input.
  const input: SessionInput = { sessionId, number: '1000-000000-0042', clientId: 'tenant-a', tag, webhook: false, definition: stack.definition('consent-only'), createdAt: now, expiresAt: now + 3_600_000 };
  await stack.encryption.keys.createIfAbsent(sessionKeyId(workflowId)!);
  const typedSearchAttributes = new TypedSearchAttributes([
    { key: SessionStatusKey, value: 'created' },
    { key: SessionTagKey, value: tag },
    { key: FlowIdKey, value: input.definition.flowId },
    { key: ClientIdKey, value: input.clientId },
  ]);
  // Its memo holds no sealed id: a list answers its workflow id as its id.
  await stack.client.workflow.start('sessionWorkflow', { taskQueue: stack.taskQueue, workflowId, args: [input], typedSearchAttributes, memo: { number: input.number } });

  expect(await stack.gateway.status(sessionId)).toMatchObject({ sessionId, number: input.number, status: 'created' });
  await stack.gateway.wakeForAttestr(sessionId);
  const launch = await stack.gateway.launch(sessionId);
  const answer = await stack.gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'consent', input: { accepted: true } });
  expect(answer).toMatchObject({ status: 'SESSION_COMPLETED', data: { outcome: 'success' } });
  expect(await eventually(async () => {
    const found = await stack.gateway.findSessions('tenant-a', tag, ['consumed']);
    return found.length > 0 ? found : undefined;
  })).toEqual([sessionId]);
  expect((await stack.gateway.archive(sessionId)).status).toBe('archived');

  const counted = await eventually(async () => {
    const { count } = await stack.client.workflow.count(`${LEGACY_SESSIONS} AND TaskQueue = '${stack.taskQueue}'`);
    return count > 0 ? count : undefined;
  });
  expect(counted).toBe(1);
  expect((await stack.client.workflow.count(LEGACY_SESSIONS)).count).toBeGreaterThanOrEqual(1);
});
