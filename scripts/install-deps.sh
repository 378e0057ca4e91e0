#!/bin/sh
# Installs what tlsdiag's build and tests need, when it is missing.
# Debian/Ubuntu: apt-get (as root). Elsewhere: print what to install.
set -e
need=""
for p in libpcap-dev tshark tcpdump openssl gnutls-bin iproute2 iptables dnsmasq-base curl wget nginx python3 default-jre-headless tcpreplay podman chromium; do
	dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
done
# node and npm run Mermaid's parser for the mermaid format's test; a node
# from elsewhere (nodesource, nvm) brings its own npm.
command -v node >/dev/null 2>&1 || need="$need nodejs"
command -v npm >/dev/null 2>&1 || need="$need npm"
command -v go >/dev/null 2>&1 || { echo "install-deps: Go 1.26 or newer is required (https://go.dev/dl/)" >&2; exit 1; }
# The sink's tests build a VictoriaLogs server from the module pinned there.
(cd "$(dirname "$0")/../sink/testdata/victorialogs" && go mod download) || echo "install-deps: could not download the VictoriaLogs module (the sink's tests need it)" >&2
if [ -z "$need" ]; then
	:
elif command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: installing$need" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq $need >/dev/null
else
	echo "install-deps: please install libpcap and, for the tests, tshark, tcpdump, openssl, gnutls, curl, nginx, node with npm, chromium" >&2
	echo "  macOS:  brew install libpcap wireshark openssl gnutls nginx node chromium" >&2
	echo "  Fedora: dnf install libpcap-devel wireshark-cli tcpdump openssl gnutls-utils iproute nginx nodejs npm chromium" >&2
fi
# Mermaid's parser, pinned by its package-lock.json, into the git-ignored
# report/testdata/mermaid/node_modules (once; npm caches the download).
mermaid="$(dirname "$0")/../report/testdata/mermaid"
if [ ! -f "$mermaid/node_modules/mermaid/package.json" ] && command -v npm >/dev/null 2>&1; then
	echo "install-deps: installing Mermaid's parser in report/testdata/mermaid" >&2
	npm ci --prefix "$mermaid" --no-audit --no-fund --loglevel=error >/dev/null
fi
