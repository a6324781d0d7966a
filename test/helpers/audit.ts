import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { FileAuditStore } from '../../src/audit/file-store';
import { AuditTrail } from '../../src/audit/trail';

/** An audit trail of its own: a file store in a fresh folder under .data/, under a random key. */
export function scratchAuditTrail(prefix = 'test-audit-'): { trail: AuditTrail; store: FileAuditStore; key: Buffer; dataDir: string } {
  const dataDir = mkdtempSync(join('.data', prefix));
  const store = new FileAuditStore(dataDir);
  const key = randomBytes(32);
  return { trail: new AuditTrail(store, key, 400), store, key, dataDir };
}
