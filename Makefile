# Shelin — two commands: `make run` (demo) and `make test` (whole suite).
GO      ?= go
BIN     := bin/shelin
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)

.PHONY: run test build tools bench faults vet clean

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/shelin

# Private PostgreSQL under ./var/pg unless DATABASE_URL is set, demo data once, serve.
run: build
	$(BIN) dev

# Whole suite (unit, database, HTTP and Chromium browser tests) with the race
# detector, against DATABASE_URL or the private cluster.
test: build tools
	$(BIN) pg -- $(GO) test -race -count=1 -timeout 30m ./...

# Installs what the tests need when missing (Chromium, CJK fonts, zbarimg).
tools:
	@scripts/ensure-tools.sh

bench: build
	$(BIN) pg -- $(GO) test -run '^$$' -bench . -benchtime 2s ./...

# The long fault suite (the short one runs in `make test`): more sales and
# four rounds of killed connections, PostgreSQL restarts and server SIGKILLs.
faults: build
	$(BIN) pg -- $(GO) test -count=1 -timeout 20m -run 'TestFaults' ./cmd/shelin -args -faults.long

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)

clean:
	rm -rf bin
