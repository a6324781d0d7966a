/**
 * scripts/temporal-certs.sh, the certificates of `make cluster` and compose's temporal-certs job:
 * a set that chains to its CA, kept while valid, made anew (CA included) when a file is missing,
 * a certificate is not the CA's, a key is not its certificate's, or one expires soon; the codec
 * server's (operator) certificate alone in a folder of its own.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './fixtures';

const SCRIPT = join(REPO_ROOT, 'scripts', 'temporal-certs.sh');
const CLIENTS = ['worker', 'api', 'ui', 'cli'];

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'sessionflow-certs-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function makeCerts(dir: string, env: Record<string, string> = {}): string {
  const made = spawnSync('sh', [SCRIPT, dir], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });
  if (made.status !== 0) throw new Error(`temporal-certs.sh failed: ${made.stderr}`);
  return made.stdout;
}

const certificate = (path: string) => new X509Certificate(readFileSync(path));
/** The CA's fingerprint: a new set has a new CA. */
const caOf = (dir: string) => certificate(join(dir, 'server', 'ca.pem')).fingerprint256;

describe('temporal-certs.sh', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(root, 'set-'));
    makeCerts(dir);
  });

  it('makes a CA, the server certificate and one client certificate per client, all signed by the CA, and deletes the CA key', () => {
    const ca = certificate(join(dir, 'server', 'ca.pem'));
    expect(ca.ca).toBe(true);
    expect(readFileSync(join(dir, 'clients', 'ca.pem'))).toEqual(readFileSync(join(dir, 'server', 'ca.pem')));
    const server = certificate(join(dir, 'server', 'server.pem'));
    expect(server.checkIssued(ca) && server.verify(ca.publicKey)).toBe(true);
    // Every client checks the name `temporal`; the server presents the same certificate as its own internal client.
    expect(server.subjectAltName).toBe('DNS:temporal, DNS:localhost');
    expect(server.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
    for (const name of CLIENTS) {
      const client = certificate(join(dir, 'clients', `${name}.pem`));
      expect(client.checkIssued(ca) && client.verify(ca.publicKey)).toBe(true);
      expect(client.ca).toBe(false);
      expect(client.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
      expect(client.subject).toBe(`CN=sessionflow-${name}`);
      expect(statSync(join(dir, 'clients', `${name}.key`)).mode & 0o777).toBe(0o600);
    }
    const files = [...readdirSync(join(dir, 'server')), ...readdirSync(join(dir, 'clients'))];
    expect(files.filter((file) => file.startsWith('ca.'))).toEqual(['ca.pem', 'ca.pem']);
    expect(files.some((file) => file.startsWith('operator.'))).toBe(false);
    expect(files.some((file) => file.endsWith('.tmp') || file.endsWith('.csr'))).toBe(false);
  });

  it("puts the codec server's certificate alone in operator/, signed by the same CA, with the CA to check the server", () => {
    // What compose mounts into the codec server: its own key and no other client's.
    expect(readdirSync(join(dir, 'operator')).sort()).toEqual(['ca.pem', 'operator.key', 'operator.pem']);
    expect(readFileSync(join(dir, 'operator', 'ca.pem'))).toEqual(readFileSync(join(dir, 'server', 'ca.pem')));
    const ca = certificate(join(dir, 'server', 'ca.pem'));
    const operator = certificate(join(dir, 'operator', 'operator.pem'));
    expect(operator.checkIssued(ca) && operator.verify(ca.publicKey)).toBe(true);
    expect(operator.subject).toBe('CN=sessionflow-operator');
    expect(operator.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(statSync(join(dir, 'operator', 'operator.key')).mode & 0o777).toBe(0o600);
  });

  it('keeps a complete, valid set as it is', () => {
    const before = caOf(dir);
    const apiCert = readFileSync(join(dir, 'clients', 'api.pem'));
    expect(makeCerts(dir)).toContain('kept');
    expect(caOf(dir)).toBe(before);
    expect(readFileSync(join(dir, 'clients', 'api.pem'))).toEqual(apiCert);
  });

  it.each([
    ['a file is missing', (d: string) => rmSync(join(d, 'clients', 'ui.key'))],
    ["the operator's key is missing", (d: string) => rmSync(join(d, 'operator', 'operator.key'))],
    ["the operator's certificate is from another CA", (d: string, other: string) => copyFileSync(join(other, 'operator', 'operator.pem'), join(d, 'operator', 'operator.pem'))],
    ['a client certificate is from another CA', (d: string, other: string) => copyFileSync(join(other, 'clients', 'api.pem'), join(d, 'clients', 'api.pem'))],
    ['a key is not its certificate', (d: string, other: string) => copyFileSync(join(other, 'server', 'server.key'), join(d, 'server', 'server.key'))],
    ['the two CA copies differ', (d: string, other: string) => copyFileSync(join(other, 'clients', 'ca.pem'), join(d, 'clients', 'ca.pem'))],
  ])('makes a new set, CA included, when %s', (_, spoil) => {
    const other = mkdtempSync(join(root, 'other-'));
    makeCerts(other);
    const before = caOf(dir);
    spoil(dir, other);
    expect(makeCerts(dir)).toContain('made a new CA');
    expect(caOf(dir)).not.toBe(before);
    expect(existsSync(join(dir, 'clients', 'ui.key'))).toBe(true);
    expect(existsSync(join(dir, 'operator', 'operator.key'))).toBe(true);
    expect(makeCerts(dir)).toContain('kept');
  });

  it('makes a new set when a certificate expires within CERTS_RENEW_DAYS', () => {
    const before = caOf(dir);
    expect(makeCerts(dir, { CERTS_RENEW_DAYS: '364' })).toContain('kept');
    expect(makeCerts(dir, { CERTS_RENEW_DAYS: '366' })).toContain('made a new CA');
    expect(caOf(dir)).not.toBe(before);
  });

  it('writes keys with CERTS_KEY_MODE (compose: readable by the containers’ own users)', () => {
    const open = mkdtempSync(join(root, 'compose-'));
    makeCerts(open, { CERTS_KEY_MODE: '644' });
    expect(statSync(join(open, 'clients', 'worker.key')).mode & 0o777).toBe(0o644);
    expect(statSync(join(open, 'server', 'server.key')).mode & 0o777).toBe(0o644);
    expect(statSync(join(open, 'operator', 'operator.key')).mode & 0o777).toBe(0o644);
  });
});
