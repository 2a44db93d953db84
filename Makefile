# Verdict: the two commands that matter are `make run` and `make test`.
GO      ?= go
SHARED  ?= ../shared/conformance
CORPORA := data/demo.json $(wildcard test/corpus/*.json) $(wildcard $(SHARED)/*.json)

export TESTCONTAINERS_RYUK_DISABLED ?= true

.PHONY: run test deps vet gotest policy-test check bench bench-compare build fuzz

## run: start a PDP with the demo organization, no setup needed.
run:
	$(GO) run ./cmd/verdict serve --dev

## test: install what is missing (redis-server), then every test. Every step
## runs even when one fails (a failing Go package does not hide the Rego
## tests and the corpora); the command fails when any step did.
test: deps
	@MAKE="$(MAKE)" sh scripts/test.sh vet gotest policy-test check

deps:
	@sh scripts/ensure-redis.sh

vet:
	$(GO) vet ./...

gotest:
	$(GO) test -count=1 ./...

# Rego tests through the project's CLI; fails below 90 % policy coverage.
policy-test:
	$(GO) run ./cmd/verdict policy test policies --threshold 90

# Decision corpora replayed in-process (the shared ones when ../shared exists).
check:
	@if [ ! -d "$(SHARED)" ]; then echo "check: $(SHARED) is absent (a user's clone): replaying the project's own corpora only"; fi
	$(GO) run ./cmd/verdict check $(CORPORA)

## bench: the in-process decision benchmarks (figures go to docs/benchmarks.md).
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3s ./test/

## bench-compare: verdict serve against the stock OPA server, same facts, rules,
## request mix and load generator, at 10k and 1M users (not part of `make
## test`; about 15 minutes the first time). Results: docs/bench-compare/.
BENCH_USERS ?= 10000,1000000
bench-compare: deps
	$(GO) run ./test/benchcompare --users $(BENCH_USERS)

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseRequest -fuzztime 30s ./internal/authzen/
	$(GO) test -run '^$$' -fuzz FuzzDecodeOrg -fuzztime 30s ./internal/orgdoc/

build:
	CGO_ENABLED=0 $(GO) build -o bin/verdict ./cmd/verdict
