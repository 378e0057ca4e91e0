package live

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestInterfaceType reads the hardware types that choose how an interface
// is captured: lo is a loopback, a missing interface unknown, and only
// 802.11 types are Wi-Fi in monitor mode.
func TestInterfaceType(t *testing.T) {
	if got := interfaceType("lo"); got != unix.ARPHRD_LOOPBACK {
		t.Errorf("lo: type %d, want %d", got, unix.ARPHRD_LOOPBACK)
	}
	if got := interfaceType("no-such-interface0"); got != 0 {
		t.Errorf("a missing interface: type %d, want 0", got)
	}
	for typ, want := range map[uint16]bool{
		unix.ARPHRD_ETHER: false, unix.ARPHRD_LOOPBACK: false, unix.ARPHRD_NONE: false, unix.ARPHRD_IEEE802154: false,
		unix.ARPHRD_IEEE80211: true, unix.ARPHRD_IEEE80211_PRISM: true, unix.ARPHRD_IEEE80211_RADIOTAP: true,
	} {
		if wifiMonitor(typ) != want {
			t.Errorf("type %d: monitor mode %v, want %v", typ, !want, want)
		}
	}
}
