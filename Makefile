# Two entry points are documented in README.md: `make demo` and `make test`.
# Both install what is missing first (Debian/Ubuntu: apt-get; see README for others).

GO ?= go
BIN := bin/tlsdiag
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo devel)
# On Linux tlsdiag captures through AF_PACKET without libpcap; where
# libpcap's headers are installed the build links it too (-tags libpcap):
# the filters the built-in compiler does not know, and live --capture libpcap.
TAGS ?= $(shell test -f /usr/include/pcap/pcap.h -o -f /usr/include/pcap.h && echo libpcap)
GOTAGS := $(if $(TAGS),-tags $(TAGS))

.PHONY: all build deps demo test fuzz clean release release-check bench-live

all: build

deps:
	@sh scripts/install-deps.sh

build:
	$(GO) build $(GOTAGS) -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/tlsdiag

demo: deps build
	./$(BIN) read --cacert testdata/certs/ca.pem testdata/demo.pcap || test $$? -eq 1

# The tests that capture live traffic or create network namespaces need
# root (CI runs as root); the race detector is on for all of them. Then the
# capture, read, live and probe tests again in a build without cgo (the
# static release binary), whose live capture is AF_PACKET.
test: deps
	$(GO) vet $(GOTAGS) ./...
	$(GO) test $(GOTAGS) -race -count=1 -timeout 20m ./...
	CGO_ENABLED=0 $(GO) vet ./...
	CGO_ENABLED=0 $(GO) test -count=1 ./capture/... ./cmd/tlsdiag/... ./probe/...
	sh scripts/release.sh --check

# Release artefacts in dist/: static linux/amd64 and linux/arm64 binaries,
# darwin/arm64, SHA256SUMS, and the container image (Containerfile).
# release-check also runs the static binary alone in an empty root and
# checks the image (size under 20 MB, it runs).
release:
	sh scripts/release.sh

release-check:
	sh scripts/release.sh --check

# Every fuzz target for FUZZTIME each (.ci/run: 10s).
FUZZTIME ?= 20s
fuzz:
	sh scripts/fuzz.sh $(FUZZTIME)

# bench generates captures into testdata/bench (once), then times tlsdiag
# and tshark on them and checks every verdict against the truth.
bench:
	@sh scripts/bench.sh

# bench-live replays a generated TLS capture over a veth pair between two
# network namespaces with tcpreplay and captures it with tlsdiag live,
# through AF_PACKET and libpcap, at RATES Mbit/s (root).
bench-live:
	@sh scripts/bench-live.sh

clean:
	rm -rf bin dist
