package capture

import (
	"slices"
	"testing"
)

func TestFilterPorts(t *testing.T) {
	for _, tt := range []struct {
		filter string
		want   []uint16
	}{
		{"tcp port 9451", []uint16{9451}},
		{"tcp port 443 or tcp port 8443", []uint16{443, 8443}},
		{"port 443 or 8443", []uint16{443, 8443}},
		{"tcp and (dst port 4436 or src port 4437)", []uint16{4436, 4437}},
		{"tcp portrange 4470-4473", []uint16{4470, 4471, 4472, 4473}},
		{"host 10.0.0.1 and not port 22", nil},
		{"!port 22 and port 993", []uint16{993}},
		{"port https", nil},
		{"tcp portrange 1-65535", nil}, // checked by length below
		{"", nil},
		{"port 70000", nil},
	} {
		got := FilterPorts(tt.filter)
		if tt.filter == "tcp portrange 1-65535" {
			if len(got) != maxFilterPorts {
				t.Errorf("%q: %d ports, want the cap %d", tt.filter, len(got), maxFilterPorts)
			}
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("FilterPorts(%q) = %v, want %v", tt.filter, got, tt.want)
		}
	}
}

// TestFilterTakesUDPTunnels: the filters that may pass VXLAN, GENEVE,
// GTP-U or TZSP, and those that cannot.
func TestFilterTakesUDPTunnels(t *testing.T) {
	for filter, want := range map[string]bool{
		"":                                        true,
		"tcp port 443 or udp port 8472":           true,
		"tcp port 443 or (udp and port 4789)":     true,
		"udp port 2152 or udp port 37008":         true,
		"portrange 6000-7000":                     true, // 6081
		"vxlan and tcp port 443":                  true,
		"tcp or udp":                              true,
		"tcp port 443 or udp port 443 or port 53": false,
		"tcp port 443 and not port 8472":          false,
		"tcp":                                     false,
		"udp dst port 443":                        false,
		"host 10.0.0.1 and tcp port 8443":         false,
	} {
		if got := FilterTakesUDPTunnels(filter); got != want {
			t.Errorf("%q: %v, want %v", filter, got, want)
		}
	}
}
