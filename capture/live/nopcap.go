//go:build !cgo || (linux && !libpcap)

package live

import (
	"errors"

	"golang.org/x/net/bpf"
)

// havePcap: this build has no libpcap (no cgo, or Linux without the
// libpcap build tag).
const havePcap = false

func pcapVersion() string { return "" }

var errNoPcap = errors.New("live: this build has no libpcap (build with cgo and -tags libpcap)")

func openPcap(Config) (source, error) { return nil, errNoPcap }

func compileWithLibpcap(string, int) ([]bpf.RawInstruction, error) { return nil, errNoPcap }
