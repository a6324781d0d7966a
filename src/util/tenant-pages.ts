/**
 * The sandbox's stand-ins for a tenant's own pages (src/sandbox/tenant-pages.ts): a webhook inbox
 * and a page users return to. `make start`'s development client points at them.
 */
export const INBOX_PATH = '/inbox';
export const RETURNED_PATH = '/returned';

/** The development client's webhookUrl and redirectUrls on a sandbox at this loopback port. */
export function tenantPageUrls(sandboxPort: number): { webhookUrl: string; redirectUrls: string[] } {
  return {
    webhookUrl: `http://127.0.0.1:${sandboxPort}${INBOX_PATH}`,
    // Browsers may be sent to either spelling of loopback; an allowed URL matches by origin.
    redirectUrls: [`http://localhost:${sandboxPort}${RETURNED_PATH}`, `http://127.0.0.1:${sandboxPort}${RETURNED_PATH}`],
  };
}
