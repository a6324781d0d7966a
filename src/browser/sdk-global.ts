/** The SDK as one script for a tenant's own page: `window.Sessionflow.FlowSession` (see sdk.ts). */
export * from './sdk';
