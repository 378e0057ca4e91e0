#!/bin/sh
# Builds the release artefacts into dist/: static binaries without cgo for
# linux/amd64 and linux/arm64 (live capture through AF_PACKET), a
# darwin/arm64 binary (built with cgo and libpcap where this machine can,
# otherwise without: read and probe, no live capture), SHA256SUMS, the
# container image's root filesystem for each Linux architecture, and the
# image itself when podman, buildah or docker can build it.
#
#   sh scripts/release.sh           build
#   sh scripts/release.sh --check   build, then check that the static binary
#                                   runs alone in an empty root (chroot, no
#                                   libc, no libpcap) and gives the same
#                                   report as the build under test, and that
#                                   the image builds, is under 20 MB and runs
set -eu
cd "$(dirname "$0")/.."
GO=${GO:-go}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo devel)}
IMAGE=${IMAGE:-tlsdiag:$VERSION}
check=false
[ "${1:-}" = --check ] && check=true

rm -rf dist
mkdir -p dist
ldflags="-s -w -X main.version=$VERSION"
for arch in amd64 arm64; do
	out=dist/tlsdiag-$VERSION-linux-$arch
	CGO_ENABLED=0 GOOS=linux GOARCH=$arch $GO build -trimpath -ldflags "$ldflags" -o "$out" ./cmd/tlsdiag
	# The image: the binary, and a passwd for dropping privileges to
	# nobody once the capture is open.
	root=dist/rootfs-$arch
	mkdir -p "$root/etc" "$root/tmp"
	cp "$out" "$root/tlsdiag"
	printf 'root:x:0:0:root:/:/tlsdiag\nnobody:x:65534:65534:nobody:/:/tlsdiag\n' >"$root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
	chmod 1777 "$root/tmp"
done
darwin=dist/tlsdiag-$VERSION-darwin-arm64
if CGO_ENABLED=1 GOOS=darwin GOARCH=arm64 $GO build -trimpath -ldflags "$ldflags" -o "$darwin" ./cmd/tlsdiag 2>/dev/null; then
	echo "release: darwin/arm64 built with libpcap" >&2
else
	CGO_ENABLED=0 GOOS=darwin GOARCH=arm64 $GO build -trimpath -ldflags "$ldflags" -o "$darwin-nolive" ./cmd/tlsdiag
	echo "release: darwin/arm64 built without cgo (no C cross-compiler here): read and probe, no live capture" >&2
fi
(cd dist && sha256sum tlsdiag-* >SHA256SUMS)

builder=""
for b in podman buildah docker; do
	if command -v $b >/dev/null 2>&1; then
		if [ $b != docker ] || docker info >/dev/null 2>&1; then
			builder=$b
			break
		fi
	fi
done
if [ -n "$builder" ]; then
	arch=$($GO env GOARCH)
	case $builder in
	buildah) buildah bud --build-arg TARGETARCH=$arch -t "$IMAGE" -f Containerfile . >&2 ;;
	*) $builder build --build-arg TARGETARCH=$arch -t "$IMAGE" -f Containerfile . >&2 ;;
	esac
	echo "release: image $IMAGE built with $builder" >&2
else
	echo "release: no podman, buildah or docker: image not built (its root filesystem is in dist/rootfs-*)" >&2
fi
ls -l dist >&2

$check || exit 0

# The static binary alone in an empty root: no libc, no libpcap, no
# /etc. Its report of a capture (read from stdin) must be the report of
# the build under test.
arch=$($GO env GOARCH)
bin=dist/tlsdiag-$VERSION-linux-$arch
if file "$bin" 2>/dev/null | grep -q dynamic; then
	echo "release: $bin is dynamically linked" >&2
	exit 1
fi
ref=$(mktemp -d)
trap 'rm -rf "$ref"' EXIT
$GO build -o "$ref/tlsdiag" ./cmd/tlsdiag
cp testdata/certs/ca.pem "$ref/ca.pem"
empty="$ref/root"
mkdir -p "$empty"
cp "$bin" "$empty/tlsdiag"
cp testdata/certs/ca.pem "$empty/ca.pem"
status=0
"$ref/tlsdiag" read --no-system-roots --cacert "$ref/ca.pem" --format json - <testdata/demo.pcap >"$ref/want.json" || status=$?
[ $status -eq 1 ] || { echo "release: reference read exited $status" >&2; exit 1; }
status=0
unshare --mount --pid --net --fork chroot "$empty" /tlsdiag read --no-system-roots --cacert /ca.pem --format json - <testdata/demo.pcap >"$ref/got.json" || status=$?
[ $status -eq 1 ] || { echo "release: the static binary in an empty root exited $status" >&2; exit 1; }
cmp "$ref/want.json" "$ref/got.json" || { echo "release: the static binary's report differs" >&2; exit 1; }
unshare --mount --pid --net --fork chroot "$empty" /tlsdiag version | grep -q "without cgo" || { echo "release: version does not say without cgo" >&2; exit 1; }
echo "release: the static binary runs alone in an empty root and reports as the build under test" >&2

if [ -z "$builder" ]; then
	# No image builder: run the binary in the image's root filesystem.
	status=0
	unshare --mount --pid --net --fork chroot "dist/rootfs-$arch" /tlsdiag read --no-system-roots --format json - <testdata/demo.pcap >/dev/null || status=$?
	[ $status -eq 1 ] || { echo "release: the binary in the image's root exited $status" >&2; exit 1; }
	echo "release: image root filesystem checked (no image builder here)" >&2
	exit 0
fi
case $builder in
podman | buildah)
	size=$($builder image inspect --format '{{.Size}}' "$IMAGE" 2>/dev/null || podman image inspect --format '{{.Size}}' "$IMAGE")
	;;
docker) size=$(docker image inspect --format '{{.Size}}' "$IMAGE") ;;
esac
echo "release: image size $size bytes" >&2
[ "$size" -lt 20000000 ] || { echo "release: image is $size bytes, over 20 MB" >&2; exit 1; }
# Run it: through the container runtime where it can run here, else
# chrooted in the image's mounted file system.
status=0
if $builder run --rm --network none "$IMAGE" version >"$ref/version" 2>"$ref/run.err"; then
	$builder run --rm -i --network none "$IMAGE" read --no-system-roots --format json - <testdata/demo.pcap >/dev/null || status=$?
	[ $status -eq 1 ] || { echo "release: the image's read exited $status" >&2; exit 1; }
	echo "release: the image runs" >&2
elif [ $builder = podman ]; then
	echo "release: podman cannot run containers here ($(tail -1 "$ref/run.err")); running the image's file system chrooted" >&2
	mnt=$(podman image mount "$IMAGE")
	unshare --mount --pid --net --fork chroot "$mnt" /tlsdiag version >"$ref/version"
	unshare --mount --pid --net --fork chroot "$mnt" /tlsdiag read --no-system-roots --format json - <testdata/demo.pcap >/dev/null || status=$?
	podman image unmount "$IMAGE" >/dev/null
	[ $status -eq 1 ] || { echo "release: the image's read exited $status" >&2; exit 1; }
else
	echo "release: $builder cannot run the image here: $(tail -1 "$ref/run.err")" >&2
	exit 1
fi
grep -q "AF_PACKET" "$ref/version" || { echo "release: the image's version does not list AF_PACKET" >&2; exit 1; }
echo "release: image checked" >&2
