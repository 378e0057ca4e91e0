# Two entry points are documented in README.md: `make demo` and `make test`.
# Both install what is missing first (Debian/Ubuntu: apt-get; see README for others).

GO ?= go
BIN := bin/tlsdiag
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo devel)

.PHONY: all build deps demo test fuzz clean

all: build

deps:
	@sh scripts/install-deps.sh

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/tlsdiag

demo: deps build
	./$(BIN) read --cacert testdata/certs/ca.pem testdata/demo.pcap || test $$? -eq 1

# The tests that capture live traffic or create network namespaces need
# root (CI runs as root); the race detector is on for all of them.
test: deps
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

# Every fuzz target for FUZZTIME each (CI: 20s).
FUZZTIME ?= 20s
fuzz:
	sh scripts/fuzz.sh $(FUZZTIME)

# bench generates captures into testdata/bench (once), then times tlsdiag
# and tshark on them and checks every verdict against the truth.
bench:
	@sh scripts/bench.sh

clean:
	rm -rf bin
