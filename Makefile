# Kvarter: one Go workspace, several modules. `go test ./...` at the root does not
# cross modules, so these targets list every module of go.work.

GO       ?= go
MODULES  := $(shell $(GO) list -f '{{.Dir}}' -m)
PACKAGES := $(addsuffix /...,$(MODULES))
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)
LDFLAGS  := -s -w -X main.Version=$(VERSION) -X main.Commit=$(COMMIT)

.PHONY: run build test test-short lint openapi-lint build-modules proto bench fuzz assets clean

## run: start the platform on the embedded default (SQLite under ./data, 127.0.0.1:8080)
run:
	$(GO) run ./cmd/kvarter serve

## build: the kvarter binary in ./bin
build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/kvarter ./cmd/kvarter

## test: every module, with the race detector; PostgreSQL too when KVARTER_TEST_DATABASE_URL is set
test:
	$(GO) test -race -count=1 -timeout 30m $(PACKAGES)

## fuzz: every `func Fuzz` of the workspace, each for FUZZTIME (default 10s), one after another
FUZZTIME ?= 10s
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh $(MODULES)

## lint: go vet on every module and a gofmt check (generated protobuf code excepted)
lint:
	$(GO) vet $(PACKAGES)
	@unformatted=$$(git ls-files '*.go' | grep -v '\.pb\.go$$' | xargs gofmt -l); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi

## openapi-lint: the whole OpenAPI document (core and built-in plugins) through Redocly CLI (pinned; npm)
openapi-lint:
	GO=$(GO) scripts/openapi-lint.sh

## build-modules: build each module on its own (GOWORK=off) so a missing require is caught
build-modules:
	@set -e; for m in $(MODULES); do echo "GOWORK=off go build $$m"; (cd $$m && GOWORK=off $(GO) build -o /dev/null ./...); done

## proto: regenerate the plugin protocol's Go code
proto:
	$(MAKE) -C sdk proto

## assets: refresh the vendored front-end files (htmx, Designsystemet, axe-core) from npm at the
## versions pinned in scripts/assets.sh; the files are committed, so building never needs npm
assets:
	scripts/assets.sh

## bench: the Go benchmarks (load scripts live in bench/)
bench:
	$(GO) test -run '^$$' -bench . -benchtime 3x $(PACKAGES)

clean:
	rm -rf bin
