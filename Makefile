# sessionflow: `make start` runs the embedded stack, `make test` runs every check.
# Both install what is missing first (npm packages, the Temporal CLI in .tools/).
SHELL := /bin/bash
BIN := node_modules/.bin
TEMPORAL_CLI_CMD := bash scripts/install-temporal.sh
# Long-running scripts run as one node process with tsx as its loader, not under the tsx CLI:
# on Ctrl-C that wrapper SIGKILLs a child that does not confirm the signal within 30 ms (on a
# loaded machine it often cannot), and the script's own children would be left running.
RUN_TS := exec node --import tsx

.PHONY: start cluster drill bench-cluster deploy-drill temporal-server test bench soak lint typecheck unit deps chromium fonts build clean

# Installs the exact versions in package-lock.json, again whenever it changes. The lock is the
# one this npm (11) writes, every platform's optional packages included, so `npm install` leaves
# it unchanged (test/package-lock.test.ts checks that) and a fresh clone stays clean.
node_modules/.installed: package-lock.json
	npm install --no-audit --no-fund
	@touch $@

deps: node_modules/.installed

start: deps
	@TEMPORAL_CLI="$$($(TEMPORAL_CLI_CMD))" && export TEMPORAL_CLI && $(RUN_TS) scripts/start.ts

# The shape of docker-compose.yml without Docker: Temporal server built from its Go module on
# PostgreSQL, UI, sandboxes, 2 workers and 2 apis (see the README's "Beyond one machine").
cluster: deps
	@TEMPORAL_CLI="$$($(TEMPORAL_CLI_CMD))" && export TEMPORAL_CLI && $(RUN_TS) scripts/cluster.ts

# Builds the Temporal server, its schema tool and UI into .tools/ when missing (minutes, once).
temporal-server:
	@bash scripts/install-temporal-server.sh >/dev/null

# Faults under load on a fresh cluster; writes bench/results/drill.{json,md}. Not part of test.
drill: deps temporal-server
	@TEMPORAL_CLI="$$($(TEMPORAL_CLI_CMD))" && export TEMPORAL_CLI && $(RUN_TS) bench/drill.ts

# What a whole session costs on `make cluster` (PostgreSQL, the Temporal server, 2 workers, 2 apis):
# bench/results/cluster.{json,md}, the inputs of docs/guides/scale.md. Not part of test (minutes).
bench-cluster: deps temporal-server
	@TEMPORAL_CLI="$$($(TEMPORAL_CLI_CMD))" && export TEMPORAL_CLI && $(RUN_TS) bench/cluster-bench.ts

# A rollout of a new build while 200 sessions are mid-flow (Worker Versioning); writes
# bench/results/deploy-drill.{json,md}. Not part of test (minutes).
deploy-drill: deps
	@TEMPORAL_CLI="$$($(TEMPORAL_CLI_CMD))" && export TEMPORAL_CLI && $(RUN_TS) bench/deploy-drill.ts

lint: deps
	$(BIN)/eslint .

typecheck: deps
	$(BIN)/tsc --noEmit -p tsconfig.json
	$(BIN)/tsc --noEmit -p src/browser/tsconfig.json

# Headless Chromium for the Temporal UI test: Debian's package, installed when missing.
chromium:
	@bash scripts/install-chromium.sh >/dev/null

# Noto fonts for the hosted page's Hindi (Devanagari) in the browser tests: Debian's package, installed when missing.
fonts:
	@bash scripts/install-fonts.sh

# Lint and types first (fast), then jest against one isolated dev server for the whole run;
# test/schemathesis.test.ts runs Schemathesis (pinned, from PyPI, into .tools/) in that run.
test: lint typecheck chromium fonts temporal-server
	@TEMPORAL_CLI="$$($(TEMPORAL_CLI_CMD))" && export TEMPORAL_CLI && \
	  SCHEMATHESIS="$$(bash scripts/install-schemathesis.sh)" && export SCHEMATHESIS && \
	  $(BIN)/tsx scripts/with-temporal.ts -- $(BIN)/jest $(JEST_ARGS)

# The benchmark: its own fresh stack, then bench/results/ (see bench/README.md). Not part of test.
bench: deps chromium
	@TEMPORAL_CLI="$$($(TEMPORAL_CLI_CMD))" && export TEMPORAL_CLI && $(RUN_TS) bench/run.ts

# The bench's stack at half its saturation for 30 minutes: memory flat, p99 steady, no error;
# writes bench/results/soak.{json,md} (see bench/README.md). Not part of test.
soak: deps
	@TEMPORAL_CLI="$$($(TEMPORAL_CLI_CMD))" && export TEMPORAL_CLI && $(RUN_TS) bench/soak.ts

build: deps
	$(BIN)/tsc -p tsconfig.build.json

clean:
	rm -rf dist .data/test-logs
