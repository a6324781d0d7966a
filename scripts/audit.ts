/**
 * `npm run audit -- <command>`: the audit trail's CLI (docs/security/operators-and-audit.md).
 *
 *   verify                      checks the chain from its start (genesis or a prune's checkpoint);
 *                               exit 0 when intact (incomplete intents listed), 1 naming the first
 *                               broken record
 *   query [--ref R] [--session-id ID] [--actor A] [--action X] [--since T] [--until T] [--limit N]
 *                               matching records, one JSON a line, oldest first; --session-id takes a
 *                               tenant's session id and looks up its reference (the id is not kept)
 *   prune                       the retention run: records older than SESSIONFLOW_AUDIT_RETENTION_DAYS
 *                               go, behind a checkpoint record
 *
 * The trail and its key are the configured ones (SESSIONFLOW_AUDIT_URL, SESSIONFLOW_AUDIT_KEY...).
 * Bad arguments: exit 2, nothing read or written.
 */
import { loadConfigOrExit } from '../src/config';
import { AuditEntryError, configuredAuditTrail, type AuditQuery, type AuditTrail } from '../src/audit/trail';
import { sessionRef } from '../src/session-secret';
import { cliActor } from './audit-actor';

const USAGE = 'usage: npm run audit -- verify | query [--ref R] [--session-id ID] [--actor A] [--action X] [--since T] [--until T] [--limit N] | prune';

function parseQuery(args: string[]): AuditQuery {
  const query: AuditQuery = {};
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1]];
    if (value === undefined) throw new AuditEntryError(`${flag} needs a value`);
    if (flag === '--ref') query.ref = value;
    else if (flag === '--session-id') query.ref = sessionRef(value);
    else if (flag === '--actor') query.actor = value;
    else if (flag === '--action') query.action = value as AuditQuery['action'];
    else if (flag === '--since') query.since = value;
    else if (flag === '--until') query.until = value;
    else if (flag === '--limit' && /^\d{1,6}$/.test(value)) query.limit = Number(value);
    else throw new AuditEntryError(`unknown or bad option ${flag}`);
  }
  return query;
}

async function run(trail: AuditTrail, command: string | undefined, args: string[]): Promise<number> {
  if (command === 'verify' && args.length === 0) {
    const report = await trail.verify();
    const incomplete = report.incomplete.length ? `; ${report.incomplete.length} intent(s) with no outcome (incomplete, not broken): ${report.incomplete.map((seq) => `#${seq}`).join(', ')}` : '';
    if (!report.intact) {
      const where = report.broken!.seq === null ? `after #${report.broken!.after}` : `#${report.broken!.seq}`;
      process.stdout.write(`audit verify: BROKEN at record ${where}: ${report.broken!.reason} (${report.checked} record(s) before it verified)${incomplete}\n`);
      return 1;
    }
    const range = report.head ? `records #${report.startsAt} to #${report.head.seq} (${report.checked})` : 'no records';
    process.stdout.write(`audit verify: intact, ${range}${incomplete}\n`);
    return 0;
  }
  if (command === 'query') {
    for (const record of await trail.query(parseQuery(args))) process.stdout.write(`${JSON.stringify(record)}\n`);
    return 0;
  }
  if (command === 'prune' && args.length === 0) {
    const report = await trail.prune(cliActor());
    process.stdout.write(
      report.checkpoint === null
        ? `audit prune: nothing older than ${trail.retentionDays} days (the run is record #${report.record})\n`
        : `audit prune: ${report.removed} record(s) removed; checkpoint #${report.checkpoint} names #${report.firstKept} as the first kept\n`,
    );
    return 0;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

async function main(): Promise<number> {
  const config = loadConfigOrExit();
  const trail = configuredAuditTrail(config);
  try {
    return await run(trail, process.argv[2], process.argv.slice(3));
  } catch (err) {
    if (err instanceof AuditEntryError) {
      process.stderr.write(`audit: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    throw err;
  } finally {
    await trail.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`audit failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
