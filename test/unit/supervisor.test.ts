/**
 * `make start`'s supervisor (scripts/supervisor.ts): a process that keeps dying is restarted
 * after a backoff that doubles from 1 s and stops growing at 30 s, each restart said with its
 * delay and attempt; stopping cancels a pending restart. Fake processes and Jest's fake clock:
 * test/start-supervisor.test.ts kills the real ones.
 */
import { EventEmitter } from 'node:events';
import { restartDelayMs, Supervisor } from '../../scripts/supervisor';

afterEach(() => jest.useRealTimers());

test('the restart delay doubles from 1 s and is bounded at 30 s', () => {
  expect([1, 2, 3, 4, 5, 6, 7, 50].map(restartDelayMs)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
});

test('a process dying again and again is restarted after 1, 2, 4 ... 30 s, each said; stop cancels the pending restart', async () => {
  jest.useFakeTimers();
  const lines: string[] = [];
  const started: EventEmitter[] = [];
  const supervisor = new Supervisor((line) => lines.push(line));
  const start = async () => {
    const child = Object.assign(new EventEmitter(), { pid: 1000 + started.length });
    started.push(child);
    return child;
  };
  await supervisor.keep({ name: 'worker', start });

  const waits = [1, 2, 4, 8, 16, 30, 30];
  for (const seconds of waits) {
    started[started.length - 1].emit('exit', null, 'SIGKILL');
    await jest.advanceTimersByTimeAsync(seconds * 1000 - 1);
    const before = started.length;
    await jest.advanceTimersByTimeAsync(1);
    expect(started.length).toBe(before + 1); // not a moment earlier than said
  }
  expect(lines.filter((line) => line.startsWith('restarting'))).toEqual(
    waits.map((seconds, i) => `restarting worker in ${seconds} s (attempt ${i + 1}; the wait doubles up to 30 s)`),
  );
  expect(lines.filter((line) => line.includes('exited'))).toHaveLength(waits.length);
  expect(lines[lines.length - 1]).toBe(`worker is back (pid ${1000 + waits.length})`);

  started[started.length - 1].emit('exit', 1, null);
  await supervisor.stop();
  await jest.advanceTimersByTimeAsync(60_000);
  expect(started).toHaveLength(waits.length + 1);
});
