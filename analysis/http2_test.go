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
		ok   bool
	}{
		{"alone", goaway, H2InadequateSecurity, true},
		{"after preface and settings", hex.EncodeToString([]byte(http2Preface)) + settings + window + goaway, H2InadequateSecurity, true},
		{"none", settings + window, 0, false},
		{"cut", goaway[:20], 0, false},
		{"after a cut frame", settings[:12], 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := hex.DecodeString(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			code, ok := h2GoAwayCode(b)
			if code != tt.code || ok != tt.ok {
				t.Errorf("h2GoAwayCode = %v, %v; want %v, %v", code, ok, tt.code, tt.ok)
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
