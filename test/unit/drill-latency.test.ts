/**
 * The drill's latency verdict: the p99 ratio against the 3× target, and which fault each step
 * slower than the target allows ran into. The timings are made up; the arithmetic is checked.
 */
import { faultMet, judgeStepLatency, type FaultEvent, type TimedStep } from '../../bench/drill-latency';

const T0 = 1_000_000;
/** 100 steps without faults: 1 s each, the slowest two 2 s, so the (nearest-rank) p99 is 2 s. */
const BASELINE = [...Array.from({ length: 98 }, () => 1_000), 2_000, 2_000];

function steps(count: number, slow: Record<number, number>): TimedStep[] {
  return Array.from({ length: count }, (_, i) => ({ startedAt: T0 + i * 1_000, ms: slow[i] ?? 500 }));
}

test('a p99 under faults within 3× the p99 without is met, and no reason is given', () => {
  const judged = judgeStepLatency(BASELINE, steps(100, { 10: 6_000, 20: 6_000 }), []);
  expect(judged.withoutFaults.p99).toBe(2_000);
  expect(judged.withFaults.p99).toBe(6_000);
  expect(judged.p99Ratio).toBe(3);
  expect(judged.met).toBe(true);
  expect(judged.why).toBeNull();
});

test('a missed target says by how much, and counts the slow steps by the heaviest fault each met', () => {
  const faults: FaultEvent[] = [
    { kind: 'worker kill', at: T0 + 4_000 },
    { kind: '429 storm', at: T0 + 4_500 },
    { kind: 'temporal restart', at: T0 + 50_000, until: T0 + 60_000 },
  ];
  // Step 3 runs over the kill and the storm; step 55 over the restart; step 90 meets nothing.
  const judged = judgeStepLatency(BASELINE, steps(100, { 3: 9_000, 55: 9_000, 90: 9_000 }), faults);
  expect(judged.p99Ratio).toBe(4.5);
  expect(judged.met).toBe(false);
  expect(judged.slowSteps).toEqual({ over: 6_000, count: 3, byFault: { 'temporal restart': 1, 'worker kill': 1, 'api kill': 0, '429 storm': 0, none: 1 } });
  expect(judged.why).toContain('3000 ms over the 3× target (6000 ms)');
  expect(judged.why).toContain('temporal restart 1, worker kill 1, none 1');
});

test('a killed worker reaches the steps sent in the 10 s after it, not those before', () => {
  const kill: FaultEvent[] = [{ kind: 'worker kill', at: T0 }];
  expect(faultMet({ startedAt: T0 + 9_000, ms: 100 }, kill)).toBe('worker kill');
  expect(faultMet({ startedAt: T0 + 11_000, ms: 100 }, kill)).toBe('none');
  expect(faultMet({ startedAt: T0 - 1_000, ms: 500 }, kill)).toBe('none');
});

test('without steps nothing is judged', () => {
  const judged = judgeStepLatency([], [], []);
  expect(judged.p99Ratio).toBeNull();
  expect(judged.met).toBeNull();
});
