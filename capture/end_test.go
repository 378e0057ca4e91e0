package capture

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// endRecorder is a recorder that is told where the capture ended.
type endRecorder struct {
	recorder
	ends []Frame
	// openAtEnd are the streams still open when CaptureEnd was called.
	openAtEnd map[*recStream]bool
}

func (r *endRecorder) CaptureEnd(last Frame) {
	r.ends = append(r.ends, last)
	r.openAtEnd = map[*recStream]bool{}
	for _, s := range r.streams {
		if !s.closed {
			r.openAtEnd[s] = true
		}
	}
}

// TestCaptureEnd checks that Run and RunSharded tell an EndObserver the
// capture's last frame, by number and time, once per Handler, before the
// connections still open are closed: a connection that went quiet early
// is not mistaken for one the capture cut off. The bench capture ends
// with a frame that is not TCP-only traffic of any one shard.
func TestCaptureEnd(t *testing.T) {
	inputs := map[string][]byte{
		"bench": makeBenchCapture(t, 40, 2<<10).pcap,
		// The TCP handshake of the first connection, then silence from it
		// for 3.2 s while the capture goes on.
		"path_sni_filter_server": readFile(t, "../testdata/path_sni_filter_server.pcap"),
	}
	for name, data := range inputs {
		var lastTime time.Time
		var frames int64
		src, err := NewReader(name, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		for {
			_, ci, err := src.ReadPacketData()
			if err != nil {
				break
			}
			frames++
			if ci.Timestamp.After(lastTime) {
				lastTime = ci.Timestamp
			}
		}
		eof := 0
		for _, shards := range []int{1, 3} {
			hs := make([]Handler, shards)
			rs := make([]*endRecorder, shards)
			for i := range hs {
				rs[i] = &endRecorder{recorder: recorder{t: t, quiet: true}}
				hs[i] = rs[i]
			}
			src, err := NewReader(name, bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := RunSharded(context.Background(), src, hs, Options{}); err != nil {
				t.Fatal(err)
			}
			for i, r := range rs {
				if len(r.ends) != 1 {
					t.Fatalf("%s, %d shards: handler %d told the end %d times, want once", name, shards, i, len(r.ends))
				}
				if e := r.ends[0]; e.Number != frames || !e.Time.Equal(lastTime) {
					t.Errorf("%s, %d shards: handler %d: end frame %d at %v, want %d at %v", name, shards, i, e.Number, e.Time, frames, lastTime)
				}
				for _, s := range r.streams {
					if s.reason == ClosedEOF {
						eof++
						if !r.openAtEnd[s] {
							t.Errorf("%s, %d shards: a stream closed at EOF before the end was told", name, shards)
						}
					}
				}
			}
		}
		if name == "path_sni_filter_server" && eof != 2 {
			t.Errorf("%s: %d streams closed at EOF in two runs, want 2 (the silent connection)", name, eof)
		}
	}
}
