/**
 * What a `make bench` run measures: everything by default; BENCH_ONLY, BENCH_DEVICES and
 * BENCH_SESSIONS narrow it to a partial run, and a value it cannot read stops it before anything starts.
 */
import { readSelection } from '../../bench/selection';

describe('the bench selection', () => {
  it('measures everything when nothing narrows it', () => {
    expect(readSelection({})).toEqual({ systems: ['sessionflow', 'peer', 'restate'], concurrency: [1, 8, 32], sessions: null, partial: false });
  });

  it('narrows to the systems, devices and sessions asked for, in the standard order', () => {
    expect(readSelection({ BENCH_ONLY: 'restate, sessionflow', BENCH_DEVICES: '32,1', BENCH_SESSIONS: '20' })).toEqual({
      systems: ['sessionflow', 'restate'],
      concurrency: [1, 32],
      sessions: 20,
      partial: true,
    });
    expect(readSelection({ BENCH_ONLY: 'restate' }).partial).toBe(true);
  });

  it('refuses what it cannot read', () => {
    expect(() => readSelection({ BENCH_ONLY: 'temporal' })).toThrow('BENCH_ONLY must be a comma list of sessionflow, peer, restate');
    expect(() => readSelection({ BENCH_DEVICES: '4' })).toThrow('BENCH_DEVICES must be a comma list of 1, 8, 32');
    expect(() => readSelection({ BENCH_SESSIONS: '0' })).toThrow('BENCH_SESSIONS must be a whole number of at least 1');
    expect(() => readSelection({ BENCH_SESSIONS: 'many' })).toThrow('BENCH_SESSIONS must be a whole number of at least 1');
  });
});
