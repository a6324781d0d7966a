/**
 * The scale page's arithmetic (bench/scale.ts) and its count of Temporal Cloud actions
 * (bench/cloud-actions.ts), each against figures worked out by hand here.
 */
import { cloudActions } from '../../bench/cloud-actions';
import { powerOfTwoAtLeast, scaleFor, SCALE_ASSUMPTIONS, type ScaleInputs } from '../../bench/scale';

const inputs: ScaleInputs = {
  temporalCpuMs: 200,
  postgresCpuMs: 100,
  workerCpuMs: 120,
  apiCpuMs: 40,
  temporalDbBytes: 50_000,
  sessionflowDbBytes: 2_000,
  walBytes: 300_000,
  writeIos: 30,
  persistenceRequests: 80,
  cloudActions: 25,
};

describe('scale on paper', () => {
  it('works out rates, cores, IOPS and storage for a million sessions a day', () => {
    const estimate = scaleFor(inputs, 1_000_000);
    // 1,000,000 / 86,400 = 11.574/s; the peak 3× that = 34.72/s.
    expect(estimate.averagePerSecond).toBe(11.6);
    expect(estimate.peakPerSecond).toBe(34.7);
    // 34.72/s × 200 ms = 6.944 cores busy, planned at 60 %: 11.57.
    expect(estimate.temporalCores).toBe(11.6);
    expect(estimate.postgresCores).toBe(5.8);
    expect(estimate.workerCores).toBe(6.9);
    expect(estimate.apiCores).toBe(2.3);
    // 34.72/s × 30 IOs = 1,041.7.
    expect(estimate.writeIops).toBe(1042);
    // 1e6 × 300,000 B = 3e11 B = 279.4 GiB of WAL a day.
    expect(estimate.walGiBPerDay).toBe(279.4);
    // 1e6 × 33 days × 50,000 B = 1.65e12 B = 1,536.7 GiB.
    expect(estimate.temporalStorageGiB).toBe(1537);
    // 1e6 × 400 days × 2,000 B = 8e11 B = 745.1 GiB.
    expect(estimate.sessionflowStorageGiB).toBe(745);
    expect(estimate.persistenceRequestsPerSecond).toBe(2778);
    expect(estimate.cloudActionsPerSecond).toBe(868);
    // 30 million open sessions / 20,000 a shard = 1,500: 2,048 shards.
    expect(estimate.openSessions).toBe(30_000_000);
    expect(estimate.historyShards).toBe(2048);
  });

  it('scales linearly with the day, shards by the next power of two', () => {
    const one = scaleFor(inputs, 1_000_000);
    const ten = scaleFor(inputs, 10_000_000);
    expect(ten.peakPerSecond).toBeCloseTo(one.peakPerSecond * 10, 0);
    expect(ten.writeIops).toBe(10_417);
    // 300 million / 20,000 = 15,000: 16,384.
    expect(ten.historyShards).toBe(16_384);
  });

  it('follows its assumptions', () => {
    const flat = scaleFor(inputs, 864_000, { ...SCALE_ASSUMPTIONS, peakFactor: 1, coreUtilisation: 1 });
    // 10/s × 200 ms = 2 cores exactly.
    expect(flat.peakPerSecond).toBe(10);
    expect(flat.temporalCores).toBe(2);
  });

  it('rounds shards up to a power of two', () => {
    expect([0.5, 1, 3, 4, 5, 1500].map(powerOfTwoAtLeast)).toEqual([1, 1, 4, 4, 8, 2048]);
  });
});

describe('Temporal Cloud actions in a history', () => {
  it('counts starts, timers, upserts, signals, accepted updates, activity attempts and local activities once per task', () => {
    const events = [
      'WORKFLOW_EXECUTION_STARTED',
      'WORKFLOW_TASK_SCHEDULED',
      'WORKFLOW_TASK_STARTED',
      'WORKFLOW_TASK_COMPLETED',
      'TIMER_STARTED',
      'WORKFLOW_EXECUTION_UPDATE_ACCEPTED',
      'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES',
      'ACTIVITY_TASK_SCHEDULED',
      'WORKFLOW_EXECUTION_SIGNALED',
      'WORKFLOW_TASK_COMPLETED',
      'TIMER_CANCELED',
      'WORKFLOW_EXECUTION_UPDATE_COMPLETED',
      'WORKFLOW_EXECUTION_COMPLETED',
    ].map((eventType) => ({ eventType }));
    // Started, timer, update, upsert, signal: 5; a scheduled activity counts when it starts.
    expect(cloudActions(events)).toBe(5);
    // An activity that succeeded on its third attempt: three actions.
    expect(cloudActions([{ eventType: 'ACTIVITY_TASK_STARTED', attempt: 3 }])).toBe(3);
    expect(cloudActions([{ eventType: 'ACTIVITY_TASK_STARTED' }])).toBe(1);
  });

  it('counts local activities once per workflow task, and no version markers', () => {
    const local = { eventType: 'MARKER_RECORDED', markerName: 'core_local_activity' };
    const patch = { eventType: 'MARKER_RECORDED', markerName: 'core_patch' };
    const completed = { eventType: 'WORKFLOW_TASK_COMPLETED' };
    expect(cloudActions([completed, patch, local, local, completed, local, patch])).toBe(2);
  });
});
