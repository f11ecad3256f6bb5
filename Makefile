# arrears: build, local stack, tests, demo.
# `make demo` runs the whole pipeline on the local stack; `make test` runs every
# test (unit and integration) against the real Kafka, Redis and ClickHouse.
SHELL := /bin/bash
GO ?= go
BIN := bin/arrears
STACK := deploy/local/stack.sh
# go test flags; CI adds -v=false and keeps the summary lines.
TESTFLAGS ?= -count=1 -timeout 40m
# The packages, the slowest first: go test starts them in this order (-p is
# the core count), so the processor's real-stack suite (about 14 minutes)
# runs beside all the others instead of after them. ./... adds the rest once.
PKGS ?= ./processor ./processor/faults ./cmd/arrears ./sinks/clickhouse ./...

.PHONY: openapi-lint kafka-secure-up kafka-secure-down redis-secure-up redis-secure-down clickhouse-secure-up clickhouse-secure-down all build browser chdb promtool alerts interop demo-stop up down status install redis-cluster-up redis-cluster-down test test-unit fuzz bench demo topics migrate vet fmt check-deploy faults fuzz-long

all: build

build:
	$(GO) build -o $(BIN) ./cmd/arrears

## Local stack (Kafka 4 KRaft from Maven Central, Redis 7 and ClickHouse from Debian)
install:
	bash $(STACK) install
up:
	bash $(STACK) up
down:
	bash $(STACK) down
status:
	bash $(STACK) status
redis-cluster-up:
	bash deploy/local/redis.sh cluster-start
redis-cluster-down:
	bash deploy/local/redis.sh cluster-stop
## A second, secured Kafka (SASL_SSL + ACLs) on 9192 beside the plain one
## (deploy/local/kafka-secure.sh, docs/security.md).
kafka-secure-up: build
	bash deploy/local/kafka-secure.sh start
kafka-secure-down:
	bash deploy/local/kafka-secure.sh stop
## A secured Redis (TLS only on 6390, ACL user arrears, default user off) and a
## 3-master TLS Redis Cluster on 7100-7102 (deploy/local/redis-secure.sh).
redis-secure-up:
	bash deploy/local/redis-secure.sh start
	bash deploy/local/redis-secure.sh cluster-start
redis-secure-down:
	bash deploy/local/redis-secure.sh cluster-stop
	bash deploy/local/redis-secure.sh stop
## A secured ClickHouse (native protocol over TLS only on 9440; users migrate,
## sink, serve, admin; default off) (deploy/local/clickhouse-secure.sh).
clickhouse-secure-up:
	bash deploy/local/clickhouse-secure.sh start
clickhouse-secure-down:
	bash deploy/local/clickhouse-secure.sh stop

## Tests: everything, against the real stack (a missing service fails the run).
browser:
	bash deploy/local/chromium.sh

## chDB (current ClickHouse embedded, pinned, from PyPI) for the tests that
## compare every report and panel query with ClickHouse 18.16's results.
chdb:
	bash deploy/local/chdb.sh >/dev/null

## Kafka and Avro clients nobody on arrears wrote (confluent-kafka + fastavro,
## kafkajs + avsc, Apache Avro for Java), pinned, from their registries, for
## the interoperability test (processor/interop).
interop:
	bash deploy/local/interop.sh >/dev/null

## Redocly CLI (pinned, from npm, into ~/.cache/arrears) and the lint of the operator
## API's OpenAPI document (TestOpenAPILint runs the same in make test).
openapi-lint:
	cd cmd/arrears/api && REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
	  $$(bash ../../../deploy/local/openapi-lint.sh) lint --config ../../../deploy/openapi-lint/redocly.yaml openapi.yaml

## promtool (Debian's prometheus package, the binary only, under .local/) and
## the alert rules' checks and unit tests (deploy/alerts, docs/operations.md).
promtool:
	bash deploy/local/promtool.sh >/dev/null
alerts: promtool
	cd deploy/alerts && P=$$(bash ../local/promtool.sh) && $$P check rules arrears.rules.yaml && $$P test rules arrears.rules.test.yaml

test: up redis-cluster-up kafka-secure-up browser chdb interop promtool openapi-lint
	$(GO) test $(TESTFLAGS) $(PKGS)

## Unit tests only (no services needed).
test-unit:
	$(GO) test -short $(TESTFLAGS) $(PKGS)

## Churn and network-fault suite at full size (2 min of churn, toxiproxy on Kafka,
## Redis and ClickHouse, a private broker SIGKILLed): summary rows in bin/faults.md.
## `go test ./processor/faults/` runs a reduced one (also part of `make test`).
faults: up
	@mkdir -p bin && rm -f bin/faults.md
	ARREARS_FAULTS=full ARREARS_FAULTS_REPORT=$(CURDIR)/bin/faults.md $(GO) test -count=1 -timeout 40m -v ./processor/faults/; \
	  rc=$$?; cat bin/faults.md 2>/dev/null; exit $$rc

fuzz:
	FUZZTIME=$(or $(FUZZTIME),30s) bash .ci/fuzz.sh
fuzz-long:
	FUZZTIME=10m bash .ci/fuzz.sh

vet:
	$(GO) vet ./...

fmt:
	gofmt -l -w cmd processor schemas sinks analytics

topics: build
	$(BIN) topics create
migrate: build
	$(BIN) migrate

## The one-command demo: stack up, pipeline running, workload, summary, dashboard.
demo: build up
	bash deploy/local/demo.sh

demo-stop:
	bash deploy/local/demo.sh stop

bench: build up
	$(BIN) bench --json bench.json

## Offline checks of the operator manifests (docker-compose, Kubernetes).
check-deploy:
	bash deploy/check.sh
