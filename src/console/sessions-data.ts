/**
 * What the console reads from Temporal about sessions, without personal data unless asked:
 * rows from visibility (search attributes only), a session's timeline of stage changes (from
 * the search attributes its history recorded, which are never encrypted), and, only through
 * the audited decode, its stage data.
 */
import { isGrpcServiceError, WorkflowNotFoundError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { tsToDate, type Payload } from '@temporalio/common';
// The SDK's own decoding of a listed execution's search attributes (its list uses it too); not re-exported at the package's root.
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { temporal } from '@temporalio/proto';
import { submitStepUpdate, viewQuery } from '../contract/session';
import {
  ClientIdKey,
  FlowIdKey,
  FlowVersionKey,
  SessionNumberKey,
  SessionOutcomeKey,
  SessionReviewKey,
  SessionStageKey,
  SessionStageSinceKey,
  SessionStatusKey,
  SessionTagKey,
} from '../contract/session-search';

const RUNNING = temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;

export interface SessionRow {
  workflowId: string;
  number: string | null;
  tenant: string | null;
  flow: string | null;
  /** Null for sessions started before FlowVersion was set. */
  version: string | null;
  tag: string | null;
  status: string | null;
  outcome: string | null;
  stage: string | null;
  stageSince: Date | null;
  review: string | null;
  started: Date;
  running: boolean;
}

function rowOf(info: Pick<WorkflowExecutionInfo, 'workflowId' | 'typedSearchAttributes' | 'startTime' | 'status'>): SessionRow {
  const get = info.typedSearchAttributes;
  return {
    workflowId: info.workflowId,
    number: get.get(SessionNumberKey) ?? null,
    tenant: get.get(ClientIdKey) ?? null,
    flow: get.get(FlowIdKey) ?? null,
    version: get.get(FlowVersionKey) ?? null,
    tag: get.get(SessionTagKey) ?? null,
    status: get.get(SessionStatusKey) ?? null,
    outcome: get.get(SessionOutcomeKey) ?? null,
    stage: get.get(SessionStageKey) ?? null,
    stageSince: get.get(SessionStageSinceKey) ?? null,
    review: get.get(SessionReviewKey) ?? null,
    started: info.startTime,
    running: info.status.name === 'RUNNING',
  };
}

/**
 * Up to `limit` sessions a visibility query names, in visibility's order (newest first), and
 * whether there were more. Read straight from the service: the SDK's list decodes every memo
 * through the codec, and one memo this codec cannot read (another namespace key, a key store
 * that is down) would fail the whole list, when the rows need search attributes only.
 */
export async function listSessions(client: Client, query: string, limit: number): Promise<{ rows: SessionRow[]; more: boolean }> {
  const rows: SessionRow[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.listWorkflowExecutions({
      namespace: client.options.namespace,
      query,
      pageSize: Math.min(limit + 1, 1000),
      ...(nextPageToken ? { nextPageToken } : {}),
    });
    for (const raw of page.executions ?? []) {
      if (rows.length === limit) return { rows, more: true };
      rows.push(rowOfListed(raw));
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return { rows, more: false };
}

/** gRPC's NOT_FOUND (src/temporal's GRPC_STATUS, which the console may not import). */
const NOT_FOUND = 5;

/**
 * One session's row, described straight from the service for the reason `listSessions` lists
 * that way: the SDK's describe decodes the memo, which the row does not need. A workflow that
 * does not exist is WorkflowNotFoundError, as the SDK's describe would throw.
 */
export async function describeSession(client: Client, workflowId: string): Promise<SessionRow> {
  try {
    const described = await client.workflowService.describeWorkflowExecution({ namespace: client.options.namespace, execution: { workflowId } });
    return rowOfListed(described.workflowExecutionInfo ?? {});
  } catch (err) {
    if (isGrpcServiceError(err) && err.code === NOT_FOUND) throw new WorkflowNotFoundError('no such session', workflowId, undefined);
    throw err;
  }
}

function rowOfListed(raw: temporal.api.workflow.v1.IWorkflowExecutionInfo): SessionRow {
  return rowOf({
    workflowId: raw.execution?.workflowId ?? '',
    typedSearchAttributes: decodeTypedSearchAttributes(raw.searchAttributes?.indexedFields),
    startTime: raw.startTime ? tsToDate(raw.startTime) : new Date(0),
    status: { code: raw.status ?? 0, name: raw.status === RUNNING ? 'RUNNING' : 'OTHER' } as WorkflowExecutionInfo['status'],
  });
}

export interface TimelineEntry {
  at: Date;
  stage: string | null;
  status: string | null;
  outcome: string | null;
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** A search attribute's value as history keeps it (JSON; a Keyword sometimes as a one-item list); null when unset. */
function attributeValue(payload: Payload | undefined): string | null | undefined {
  if (!payload) return undefined;
  const text = Buffer.from(payload.data ?? new Uint8Array()).toString('utf8');
  if (text === '') return null;
  const value = JSON.parse(text) as unknown;
  const single = Array.isArray(value) ? value[0] : value;
  return typeof single === 'string' ? single : null;
}

/** Each change of stage, status or outcome the session's search attributes recorded, oldest first. */
export function timelineOf(events: HistoryEvent[]): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  let current: Omit<TimelineEntry, 'at'> = { stage: null, status: null, outcome: null };
  for (const event of events) {
    const fields = (event.workflowExecutionStartedEventAttributes?.searchAttributes ?? event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes)?.indexedFields;
    if (!fields) continue;
    const read = (name: string, before: string | null) => {
      const value = attributeValue(fields[name] as Payload | undefined);
      return value === undefined ? before : value;
    };
    const next = { stage: read(SessionStageKey.name, current.stage), status: read(SessionStatusKey.name, current.status), outcome: read(SessionOutcomeKey.name, current.outcome) };
    if (next.stage === current.stage && next.status === current.status && next.outcome === current.outcome) continue;
    const since = attributeValue(fields[SessionStageSinceKey.name] as Payload | undefined);
    const eventTime = event.eventTime?.seconds ? Number(event.eventTime.seconds) * 1000 + Math.floor((event.eventTime.nanos ?? 0) / 1e6) : Date.now();
    entries.push({ at: since ? new Date(since) : new Date(eventTime), ...next });
    current = next;
  }
  return entries;
}

export interface StageData {
  /** Ended: the whole result, inputs and outputs; live: the steps submitted so far (inputs). */
  ended: boolean;
  stages: Array<{ stage: string; input: unknown; output?: unknown }>;
}

/**
 * The session's stage data, decoded with its own key by the client's data converter (the
 * codec, as the Temporal UI decodes through the codec server). The caller audits it first.
 */
export async function decodeStageData(client: Client, workflowId: string, ended: boolean): Promise<StageData> {
  const handle = client.workflow.getHandle(workflowId);
  if (ended) {
    const { result } = await handle.query(viewQuery);
    return { ended, stages: Object.entries(result.result ?? {}).map(([stage, data]) => ({ stage, input: data.input, output: data.output })) };
  }
  const converter = client.options.loadedDataConverter;
  const stages: StageData['stages'] = [];
  for (const event of (await handle.fetchHistory()).events ?? []) {
    const request = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
    const [payload] = request?.input?.name === submitStepUpdate.name ? (request.input.args?.payloads ?? []) : [];
    if (!payload) continue;
    let decoded = [payload as Payload];
    for (const codec of [...converter.payloadCodecs].reverse()) decoded = await codec.decode(decoded);
    const args = converter.payloadConverter.fromPayload<{ step?: string; input?: unknown }>(decoded[0]);
    stages.push({ stage: String(args.step ?? ''), input: args.input ?? null });
  }
  return { ended, stages };
}
