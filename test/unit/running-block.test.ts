/**
 * The Try block of `make start` (scripts/running-block.ts): for the development client, a
 * session with a return and a webhook to the sandbox's pages; never a configured client's own
 * endpoints (make start would send real webhooks on every start).
 */
import { loadConfig } from '../../src/config';
import type { LoadedClients } from '../../src/tenants/registry';
import { tenantPageUrls } from '../../src/util/tenant-pages';
import { runningBlock, temporalUiQueries, tryExtras } from '../../scripts/running-block';

const config = loadConfig({ SANDBOX_PORT: '41000' });
const webhookSecret = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
const dev: LoadedClients = { source: 'dev', clients: [{ id: 'dev-client', secret: 'dev-secret-0123456789abcdef', webhookSecret, ...tenantPageUrls(41000) }] };
const configured: LoadedClients = {
  source: 'env',
  clients: [{ id: 'acme', secret: 'acme-secret-0123456789abcdef', webhookSecret, webhookUrl: 'https://hooks.acme.example/x', redirectUrls: ['https://app.acme.example/done'] }],
};

const block = (clients: LoadedClients) =>
  runningBlock({ config, apiUrls: ['http://localhost:8080'], uiUrl: null, temporalAddress: '127.0.0.1:7233', sandboxUrl: 'http://localhost:41000', headline: 'running', hostedUrl: 'http://localhost:8080/flow/DSx', clients });

test("the development client's Try session returns to the sandbox's page and sends its webhooks to the inbox", () => {
  expect(tryExtras(dev, 41000)).toEqual({ webhook: true, returnUrl: 'http://localhost:41000/returned' });
  const text = block(dev);
  expect(text).toContain('  inbox        http://localhost:41000/inbox   ');
  expect(text).toContain('finish it, it returns to http://localhost:41000/returned and sends its webhooks to the inbox');
  expect(text).toContain(`-d '{"flow":"consent-only","tag":"REF-1","webhook":true,"returnUrl":"http://localhost:41000/returned"}'`);
});

test("a configured client's own webhook and redirect URLs are never used by the Try block", () => {
  expect(tryExtras(configured, 41000)).toBeNull();
  // Nor a development file pointed elsewhere.
  expect(tryExtras({ ...configured, source: 'dev' }, 41000)).toBeNull();
  const text = block(configured);
  expect(text).not.toContain('inbox');
  expect(text).not.toContain('acme.example');
  expect(text).toContain(`-d '{"flow":"consent-only","tag":"REF-1"}'`);
});

test('with a Temporal UI, the block links its saved queries (failures, stuck, in review), URL-encoded, and the console', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');
  const queries = temporalUiQueries('http://127.0.0.1:8233', 'default', now);
  expect(queries.map((q) => [q.name, decodeURIComponent(new URL(q.url).searchParams.get('query') ?? '')])).toEqual([
    ['failures', "WorkflowType = 'sessionWorkflow' AND SessionOutcome = 'error'"],
    ['stuck', "WorkflowType = 'sessionWorkflow' AND ExecutionStatus = 'Running' AND SessionStageSince < '2026-03-01T11:00:00.000Z'"],
    ['in review', "WorkflowType = 'sessionWorkflow' AND ExecutionStatus = 'Running' AND SessionReview IS NOT NULL"],
  ]);
  expect(queries[0].url).toBe(`http://localhost:8233/namespaces/default/workflows?query=WorkflowType%20%3D%20'sessionWorkflow'%20AND%20SessionOutcome%20%3D%20'error'`);
  const text = runningBlock({
    config,
    apiUrls: ['http://localhost:8080'],
    uiUrl: 'http://127.0.0.1:8233',
    temporalAddress: '127.0.0.1:7233',
    sandboxUrl: 'http://localhost:41000',
    headline: 'running',
    clients: dev,
    operatorCommand: { codecUrl: 'http://localhost:8081', tokenFile: '.data/operator-token' },
  });
  expect(text).toContain('  console      http://localhost:8081/console   ');
  expect(text).toContain('    failures   http://localhost:8233/namespaces/default/workflows?query=');
  expect(text).toContain('    in review  http://localhost:8233/namespaces/default/workflows?query=');
  expect(block(dev)).not.toContain('saved queries');
});
