import { searchAttributeProblems } from '../../src/readiness';

const KEYWORD = 2;
const TEXT = 1;
const DATETIME = 6;

test('ready only with every session search attribute registered with its type', () => {
  const all = { SessionStatus: KEYWORD, SessionTag: KEYWORD, FlowId: KEYWORD, ClientId: KEYWORD, SessionOutcome: KEYWORD, SessionStage: KEYWORD };
  expect(searchAttributeProblems({ ...all, SessionStageSince: DATETIME, WorkflowType: KEYWORD })).toEqual([]);
  expect(searchAttributeProblems({ ...all, SessionTag: TEXT, SessionStageSince: KEYWORD })).toEqual([
    'search attribute SessionTag is registered with another type than KEYWORD',
    'search attribute SessionStageSince is registered with another type than DATETIME',
  ]);
  const { FlowId, ...withoutFlowId } = all; // eslint-disable-line @typescript-eslint/no-unused-vars
  expect(searchAttributeProblems({ ...withoutFlowId, SessionStageSince: DATETIME })).toEqual(['search attribute FlowId is not registered']);
});
