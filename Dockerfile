# One image for every sessionflow process. The default command runs the api; worker containers
# run `node dist/worker.js`, the provider sandboxes `node dist/sandbox/main.js`
# (see docker-compose.yml).

# Stage 1: compile TypeScript with the dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/bundle-workflows.ts scripts/bundle-browser.ts ./scripts/
# Also bundle the workflow code once, here: workers then start without running webpack, and every
# replica runs byte-identical workflow code. The traced bundle is for workers with
# SESSIONFLOW_OTLP_ENDPOINT set (WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle-traced.js, docs/guides/tracing.md).
RUN npm run build && npx tsx scripts/bundle-workflows.ts dist/workflow-bundle.js && npx tsx scripts/bundle-workflows.ts --traced dist/workflow-bundle-traced.js
# The hosted page's script, SDK and styles, bundled with esbuild (a dev dependency) into dist/browser-bundle/.
RUN npx tsx scripts/bundle-browser.ts dist/browser-bundle

# Stage 2: production dependencies, the compiled code and the flow definitions only.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY flows ./flows
# The code stays owned by root: the process (the image's unprivileged `node` user, uid 1000)
# can read it but not change it.
USER node
EXPOSE 8080
CMD ["node", "dist/api/main.js"]
