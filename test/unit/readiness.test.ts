import { searchAttributeProblems } from '../../src/readiness';

const KEYWORD = 2;
const TEXT = 1;
const DATETIME = 6;

test('ready only with every session search attribute registered with its type', () => {
  const all = { SessionStatus: KEYWORD, SessionTag: KEYWORD, FlowId: KEYWORD, ClientId: KEYWORD, SessionOutcome: KEYWORD, SessionStage: KEYWORD, SessionNumber: KEYWORD, SessionReview: KEYWORD, FlowVersion: KEYWORD };
  expect(searchAttributeProblems({ ...all, SessionStageSince: DATETIME, SessionArchivedAt: DATETIME, WorkflowType: KEYWORD })).toEqual([]);
  expect(searchAttributeProblems({ ...all, SessionTag: TEXT, SessionStageSince: KEYWORD, SessionArchivedAt: KEYWORD })).toEqual([
    'search attribute SessionTag is registered with another type than KEYWORD',
    'search attribute SessionStageSince is registered with another type than DATETIME',
    'search attribute SessionArchivedAt is registered with another type than DATETIME',
  ]);
  // The personal-data attributes count like the others: an archived session answers from them.
  expect(searchAttributeProblems({ ...all, SessionStageSince: DATETIME })).toEqual(['search attribute SessionArchivedAt is not registered']);
  const { FlowId, ...withoutFlowId } = all; // eslint-disable-line @typescript-eslint/no-unused-vars
  expect(searchAttributeProblems({ ...withoutFlowId, SessionStageSince: DATETIME, SessionArchivedAt: DATETIME })).toEqual(['search attribute FlowId is not registered']);
});
