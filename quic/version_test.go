package quic

import "testing"

func TestVersionString(t *testing.T) {
	for _, tt := range []struct {
		v      Version
		want   string
		google bool
	}{
		{Version1, "v1", false},
		{Version2, "v2", false},
		{VersionDraft29, "draft-29", false},
		{0x1a2a3a4a, "grease(0x1a2a3a4a)", false},
		{0x51303436, "Q046", true}, // tshark: "Q046"
		{0x54303531, "T051", true},
		{0x51304130, "0x51304130", false}, // "Q0A0": not three digits
		{0x709a50c4, "0x709a50c4", false},
	} {
		if got := tt.v.String(); got != tt.want || tt.v.Google() != tt.google {
			t.Errorf("%#x: %q, Google %v; want %q, %v", uint32(tt.v), got, tt.v.Google(), tt.want, tt.google)
		}
	}
}
