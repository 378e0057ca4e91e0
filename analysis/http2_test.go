package analysis

import (
	"encoding/hex"
	"testing"
)

// TestH2GoAwayCode reads the error code of the first GOAWAY frame after
// the preface and other whole frames, and finds none in a cut frame.
func TestH2GoAwayCode(t *testing.T) {
	settings := "000000040000000000"               // empty SETTINGS
	goaway := "000008070000000000000000000000000c" // GOAWAY, last stream 0, INADEQUATE_SECURITY
	window := "000004080000000000000f0001"         // WINDOW_UPDATE
	for _, tt := range []struct {
		name string
		in   string
		code H2ErrorCode
		last uint32
		ok   bool
	}{
		{"last stream 5, NO_ERROR", "000008070000000000" + "00000005" + "00000000", 0, 5, true},
		{"reserved bit ignored", "000008070000000000" + "80000007" + "00000000", 0, 7, true},
		{"alone", goaway, H2InadequateSecurity, 0, true},
		{"after preface and settings", hex.EncodeToString([]byte(http2Preface)) + settings + window + goaway, H2InadequateSecurity, 0, true},
		{"none", settings + window, 0, 0, false},
		{"cut", goaway[:20], 0, 0, false},
		{"after a cut frame", settings[:12], 0, 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := hex.DecodeString(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			code, last, ok := h2GoAwayCode(b)
			if code != tt.code || last != tt.last || ok != tt.ok {
				t.Errorf("h2GoAwayCode = %v, %d, %v; want %v, %d, %v", code, last, ok, tt.code, tt.last, tt.ok)
			}
		})
	}
	if got := H2InadequateSecurity.String(); got != "INADEQUATE_SECURITY" {
		t.Errorf("String() = %q", got)
	}
	if got := H2ErrorCode(0x1234).String(); got != "0x1234" {
		t.Errorf("String() of an unknown code = %q", got)
	}
}
