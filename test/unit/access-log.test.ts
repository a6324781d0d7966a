/**
 * make start's quiet terminal (scripts/access-log.ts): the services' access lines go to a
 * private, size-rotated file; everything else, and every access line with
 * SESSIONFLOW_ACCESS_LOG=stdout, to the terminal.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAccessLine, openAccessLog } from '../../scripts/access-log';

const incoming = (n: number) => `[api] {"level":30,"time":1,"pid":1,"hostname":"h","reqId":"r${n}","req":{"method":"GET","url":"/readyz"},"msg":"incoming request"}`;
const completed = '[codec] {"level":30,"time":1,"pid":1,"hostname":"h","reqId":"r","res":{"statusCode":200},"responseTime":1.2,"msg":"request completed"}';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sessionflow-access-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('access lines are the per-request lines below warn; warnings, errors and other lines are not', () => {
  expect(isAccessLine(incoming(1))).toBe(true);
  expect(isAccessLine(completed)).toBe(true);
  expect(isAccessLine('[api] {"level":30,"msg":"flow file loaded","file":"a.json"}')).toBe(false);
  expect(isAccessLine('[api] {"level":40,"req":{"method":"GET"},"msg":"key store unavailable"}')).toBe(false);
  expect(isAccessLine('[api] {"level":50,"reqId":"r","err":{},"msg":"request failed"}')).toBe(false);
  expect(isAccessLine('[supervisor] api running (pid 1)')).toBe(false);
  expect(isAccessLine('[worker] 2026-01-01T00:00:00.000Z [INFO] Worker state changed {')).toBe(false);
  expect(isAccessLine('[api] {"level":30,"req":')).toBe(false);
});

test('the file gets the access lines as JSON with their service, mode 0600; the terminal gets the rest', async () => {
  const terminal: string[] = [];
  const log = openAccessLog(dir, 'file', (line) => terminal.push(line));
  expect(log.file).toBe(join(dir, 'logs', 'access.log'));
  log.sink(incoming(1));
  log.sink('[api] {"level":50,"msg":"request failed"}');
  log.sink(completed);
  log.sink('[supervisor] worker running (pid 2)');
  await log.close();
  expect(terminal).toEqual(['[api] {"level":50,"msg":"request failed"}', '[supervisor] worker running (pid 2)']);
  const lines = readFileSync(log.file!, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(lines).toEqual([expect.objectContaining({ service: 'api', msg: 'incoming request' }), expect.objectContaining({ service: 'codec', msg: 'request completed' })]);
  expect(statSync(log.file!).mode & 0o777).toBe(0o600);
  expect(statSync(join(dir, 'logs')).mode & 0o777).toBe(0o700);
});

test('the file is rotated by size into a few files, each private', async () => {
  const log = openAccessLog(dir, 'file', () => {}, '1K');
  for (let n = 0; n < 200; n += 1) log.sink(incoming(n));
  await log.close();
  const files = readdirSync(join(dir, 'logs')).sort();
  expect(files).toEqual(['access.log', 'access.log.1', 'access.log.2', 'access.log.3', 'access.log.4']);
  for (const file of files) {
    const { mode, size } = statSync(join(dir, 'logs', file));
    expect(mode & 0o777).toBe(0o600);
    expect(size).toBeLessThan(2048);
  }
  // The newest lines are kept; the oldest were rotated away.
  const kept = files.map((file) => readFileSync(join(dir, 'logs', file), 'utf8')).join('');
  expect(kept).toContain('"reqId":"r199"');
  expect(kept).not.toContain('"reqId":"r0"');
});

test('SESSIONFLOW_ACCESS_LOG=stdout: every line goes to the terminal and no file is made', async () => {
  const terminal: string[] = [];
  const log = openAccessLog(dir, 'stdout', (line) => terminal.push(line));
  log.sink(incoming(1));
  log.sink(completed);
  await log.close();
  expect(log.file).toBeNull();
  expect(terminal).toEqual([incoming(1), completed]);
  expect(readdirSync(dir)).toEqual([]);
});
