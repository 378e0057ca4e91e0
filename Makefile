# Two entry points are documented in README.md: `make demo` and `make test`.
# Both install what is missing first (Debian/Ubuntu: apt-get; see README for others).

GO ?= go
BIN := bin/tlsdiag
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo devel)

.PHONY: all build deps demo test test-short fuzz bench clean

all: build

deps:
	@sh scripts/install-deps.sh

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/tlsdiag

demo: deps build
	./$(BIN) read --cacert testdata/certs/ca.pem --tls-port 4476 testdata/demo.pcap || test $$? -eq 1

test: deps
	$(GO) vet ./...
	$(GO) test -count=1 ./...

test-short:
	$(GO) test -short ./...

clean:
	rm -rf bin
