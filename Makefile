# Verdict: the two commands that matter are `make run` and `make test`.
GO      ?= go
SHARED  ?= ../shared/conformance
CORPORA := data/demo.json $(wildcard test/corpus/*.json) $(wildcard $(SHARED)/*.json)

export TESTCONTAINERS_RYUK_DISABLED ?= true

.PHONY: run test deps vet gotest race policy-test check bench bench-compare build fuzz fuzz-decisions images compose compose-down

# One set of build flags for bin/verdict, whichever target builds it (run,
# build, images): CGO_ENABLED=0 (a static binary, what the FROM scratch image
# needs) and the version stamped by the linker. Compiled packages depend on
# the former only, so the Go build cache serves `make build` after `make run`
# and the reverse: only the link is redone.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
GOBUILD := CGO_ENABLED=0 $(GO) build -ldflags '-X github.com/verdict-pdp/verdict/internal/cmd/version.version=$(VERSION)'
BIN     := bin/verdict

## run: start a PDP with the demo organization, no setup needed.
run: build
	./$(BIN) serve --dev

## test: install what is missing (redis-server, chromium), then every test.
## Every step runs even when one fails (a failing Go package does not hide the
## Rego tests and the corpora); the command fails when any step did.
test: deps
	@MAKE="$(MAKE)" sh scripts/test.sh vet gotest race policy-test check

deps:
	@sh scripts/ensure-redis.sh
	@sh scripts/ensure-deb.sh wrk wrk
	@sh scripts/ensure-chromium.sh

vet:
	$(GO) vet ./...

# -timeout is a hang guard, not a measure: on a machine shared with other
# work the random-decision tests (test/random) and the container test can
# need more than go test's default 10 minutes.
gotest:
	$(GO) test -count=1 -timeout 30m ./...

## race: the packages that start goroutines, under the race detector, and a
## short load of mixed decisions, batches and admin writes on a whole PDP
## over real Redis (test/raceload, bounded by request count). About 1-2
## minutes with a warm build cache (the first -race build of the module
## adds a few minutes); every test of these packages runs, none is skipped.
RACE_PKGS := ./internal/api/... ./internal/pdp/... ./internal/engine/... ./internal/facts/... ./internal/store/... \
	./internal/bundle/... ./internal/edge/... ./internal/limits/... ./internal/lru/... ./internal/decisionlog/... \
	./internal/cmd/serve/... ./test/raceload/
race:
	$(GO) test -race -count=1 -timeout 20m $(RACE_PKGS)

# Rego tests through the project's CLI; fails below 90 % policy coverage.
# Then the hand-written policy that make bench-compare serves with stock OPA.
policy-test:
	$(GO) run ./cmd/verdict policy test policies --threshold 90
	$(GO) run ./cmd/verdict policy test test/benchcompare/handwritten --threshold 90

# Decision corpora replayed in-process (the shared ones when ../shared exists).
check:
	@if [ ! -d "$(SHARED)" ]; then echo "check: $(SHARED) is absent (a user's clone): replaying the project's own corpora only"; fi
	$(GO) run ./cmd/verdict check $(CORPORA)

## bench: the in-process decision benchmarks (figures go to docs/benchmarks.md).
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3s ./test/

## bench-compare: verdict serve against two stock OPA servers (on Verdict's
## bundle, and on a hand-written policy), same facts, the same wrk load, three
## request streams, at 10k and 1M users (not part of `make test`; about 30
## minutes the first time). Results: docs/bench-compare/.
BENCH_USERS ?= 10000,1000000
bench-compare: deps
	$(GO) run ./test/benchcompare --users $(BENCH_USERS)

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseRequest -fuzztime 30s ./internal/authzen/
	$(GO) test -run '^$$' -fuzz FuzzDecodeOrg -fuzztime 30s ./internal/orgdoc/

## fuzz-decisions: random orgs and requests (test/random) for FUZZ_DURATION,
## in rounds of 10,000 cases with fresh time seeds; `make test` runs one
## round (the fixed seed and one time seed). A failure prints the seed and a
## shrunk org and request.
FUZZ_DURATION ?= 10m
fuzz-decisions: deps
	$(GO) test -count=1 -timeout 0 -run TestRandomDecisions ./test/random/ -v -random.duration $(FUZZ_DURATION)

## build: bin/verdict, static (the binary of the image).
build:
	$(GOBUILD) -o $(BIN) ./cmd/verdict

## images: verdict:$(IMAGE_TAG) and verdict-redis:$(IMAGE_TAG), FROM scratch,
## built on the local Docker engine (nothing is pulled; build/images). The
## builder is a tool, not the product: it runs with the Go defaults, the
## flags `go test` compiles its packages (testcontainers, redistest) with.
IMAGE_TAG ?= dev
images: deps build
	$(GO) run ./build/images --binary $(BIN) --tag $(IMAGE_TAG)

## compose: Redis, a central PDP with the demo org and an edge fed by signed
## bundles (deploy/compose.yaml), started and waited for; compose-down stops
## them and forgets their volumes (the bundle signing key among them).
COMPOSE      ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)
COMPOSE_ARGS := -f deploy/compose.yaml -p verdict
CENTRAL_PORT ?= 8181
EDGE_PORT    ?= 8182
compose: images
	VERDICT_IMAGE_TAG=$(IMAGE_TAG) VERDICT_CENTRAL_PORT=$(CENTRAL_PORT) VERDICT_EDGE_PORT=$(EDGE_PORT) $(COMPOSE) $(COMPOSE_ARGS) up -d
	@for url in http://127.0.0.1:$(CENTRAL_PORT) http://127.0.0.1:$(EDGE_PORT); do \
		i=0; until ./$(BIN) healthcheck --url $$url >/dev/null 2>&1; do \
			i=$$((i+1)); if [ $$i -ge 60 ]; then ./$(BIN) healthcheck --url $$url; $(COMPOSE) $(COMPOSE_ARGS) ps; exit 1; fi; sleep 1; \
		done; \
	done
	@echo "central PDP: http://127.0.0.1:$(CENTRAL_PORT)   edge PDP: http://127.0.0.1:$(EDGE_PORT)   (sign-in off; make compose-down stops them)"

compose-down:
	$(COMPOSE) $(COMPOSE_ARGS) down -v --remove-orphans
