import { searchAttributeProblems } from '../../src/readiness';

const KEYWORD = 2;
const TEXT = 1;

test('ready only with every session search attribute registered with its type', () => {
  expect(searchAttributeProblems({ SessionStatus: KEYWORD, SessionTag: KEYWORD, FlowId: KEYWORD, ClientId: KEYWORD, WorkflowType: KEYWORD })).toEqual([]);
  expect(searchAttributeProblems({ SessionStatus: KEYWORD, SessionTag: TEXT, ClientId: KEYWORD })).toEqual([
    'search attribute SessionTag is registered with another type than KEYWORD',
    'search attribute FlowId is not registered',
  ]);
});
