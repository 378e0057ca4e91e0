package replay

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/capture"
)

// TestBucketRate: however the refills fall, the bucket never lets more
// than rate × time + burst through, and lets through all of it when
// asked often enough.
func TestBucketRate(t *testing.T) {
	const bits, frame = 2e9, 1514
	for _, step := range []time.Duration{time.Microsecond, 37 * time.Microsecond, time.Millisecond, 4 * time.Millisecond} {
		b := newBucket(bits, frame)
		sent := 0
		var last time.Duration
		for now := time.Duration(0); now < time.Second; now += step {
			b.refill(now)
			last = now
			for b.take(frame) {
				sent += frame
			}
			if most := bits / 8 * now.Seconds(); float64(sent) > most+b.burst {
				t.Fatalf("step %v: %d bytes sent by %v, at most %.0f", step, sent, now, most+b.burst)
			}
		}
		want := bits / 8 * last.Seconds()
		if float64(sent) < want-frame {
			t.Errorf("step %v: %d bytes sent in %v, want %.0f", step, sent, last, want)
		}
	}
}

// TestBucketStall: a stall longer than the burst loses the time beyond
// it; the bucket does not send the stall's frames at once afterwards.
func TestBucketStall(t *testing.T) {
	b := newBucket(8e6, 100) // 1 MB/s: 5,000 bytes of burst
	b.refill(time.Second)
	if b.tokens != b.burst || b.burst != 5000 {
		t.Fatalf("after a stall: %v tokens, burst %v; want 5000, 5000", b.tokens, b.burst)
	}
	if !b.take(5000) || b.take(1) {
		t.Fatal("the bucket should hold exactly its burst")
	}
	if got := b.wait(1000); got != time.Millisecond {
		t.Errorf("wait for 1000 bytes at 1 MB/s: %v, want 1ms", got)
	}
	// A clock that goes back earns nothing.
	b.refill(time.Second / 2)
	if b.tokens != 0 {
		t.Errorf("tokens %v after the clock went back", b.tokens)
	}
	// The bucket holds at least the largest frame, whatever the rate.
	if b := newBucket(1000, 1514); b.burst != 1514 {
		t.Errorf("burst %v for 1514-byte frames at 1 kbit/s", b.burst)
	}
}

func TestLoad(t *testing.T) {
	const name = "../../capture/testdata/veth576-tls13-go.pcap"
	fr := load(t, name)
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := capture.NewReader(name, f)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for i := 0; ; i++ {
		data, _, err := r.ReadPacketData()
		if err != nil {
			if i != fr.Len() {
				t.Fatalf("%d frames loaded, the file has %d (%v)", fr.Len(), i, err)
			}
			break
		}
		if string(fr.Frame(i)) != string(data) {
			t.Fatalf("frame %d differs from the file's", i+1)
		}
		total += int64(len(data))
		if len(data) > fr.Largest() {
			t.Fatalf("frame %d has %d bytes, more than the largest, %d", i+1, len(data), fr.Largest())
		}
	}
	if total != fr.Bytes() {
		t.Errorf("%d bytes loaded, the file's frames have %d", fr.Bytes(), total)
	}
}

func TestLoadRefuses(t *testing.T) {
	for _, tt := range []struct{ file, want string }{
		{"../../capture/testdata/any-sll2-tls13-go.pcap", "only Ethernet frames"},
		{"../../capture/testdata/README.md", "replay:"},
	} {
		f, err := os.Open(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Load(tt.file, f)
		f.Close()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one saying %q", tt.file, err, tt.want)
		}
	}
}

func load(t *testing.T, name string) *Frames {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fr, err := Load(name, f)
	if err != nil {
		t.Fatal(err)
	}
	return fr
}
