// Package bundle writes an evidence bundle: the frames of chosen
// connections, copied from their capture into a pcapng file, with what
// was found about each written as packet comments on its frames and the
// TLS secrets that open them in a Decryption Secrets Block, so that
// Wireshark shows anyone who opens the file the same thing.
package bundle

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/decrypt"
	"github.com/tlsdiag/tlsdiag/internal/textsafe"
)

// Connection is one connection to copy.
type Connection struct {
	// Client and Server are its addresses; UDP is set for QUIC.
	Client, Server netip.AddrPort
	UDP            bool
	// First and Last are the numbers of its first and last frames in the
	// capture: frames of the same addresses outside them belong to
	// another connection that reused the ports.
	First, Last int64
	// Comments are written on each frame of Commented, in order.
	Comments  []string
	Commented []int64
	// ClientRandom finds its secrets in the key log (nil: none).
	ClientRandom []byte
}

// Options tune what Write writes besides the frames.
type Options struct {
	// Application names the program in the section header (shb_userappl).
	Application string
	// KeyLog holds the secrets of the connections (nil: none are written).
	KeyLog *decrypt.KeyLog
}

// Stats says what Write wrote.
type Stats struct {
	Frames      int64 // frames copied
	Found       int   // connections of which at least one frame was found
	Commented   int64 // frames with comments
	SecretConns int   // connections whose secrets went into the Decryption Secrets Block
}

// maxComment bounds one comment: a pcapng option's length is 16 bits.
const maxComment = 60000

// snapLength is the interfaces' snapshot length: the largest frame a
// capture may hold (tcpdump's default).
const snapLength = 262144

// Write reads src to its end and writes to w, as pcapng, every frame of
// conns with its original time and bytes, in capture order, each frame
// commented as its connection says. The secrets opts.KeyLog holds for the
// connections' client randoms come first, in one Decryption Secrets Block
// (TLS key log), before any frame. A problem of src is returned with what
// was written so far.
func Write(w io.Writer, src capture.Source, conns []Connection, opts Options) (Stats, error) {
	var st Stats
	comments := map[int64][]string{}
	for _, c := range conns {
		for _, f := range c.Commented {
			for _, text := range c.Comments {
				comments[f] = append(comments[f], textsafe.Cut(text, maxComment))
			}
		}
	}
	byFlow := map[flow][]int{}
	for i, c := range conns {
		k := flowOf(c.Client, c.Server, c.UDP)
		byFlow[k] = append(byFlow[k], i)
	}
	secrets := secretsOf(conns, opts.KeyLog, &st)
	bw := bufio.NewWriter(w)
	var (
		out    *pcapgo.NgWriter
		intfs  = map[layers.LinkType]int{}
		flows  = capture.NewFlowDecoder()
		found  = make([]bool, len(conns))
		closed = make([]bool, len(conns))
		number int64
	)
	for {
		data, ci, err := src.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return st, finish(out, bw, err)
		}
		number++
		lt := src.LinkType()
		fl, ok := flows.Flow(data, ci.Timestamp, lt)
		if !ok {
			continue
		}
		k := flowOf(fl.Src, fl.Dst, fl.UDP)
		i := slices.IndexFunc(byFlow[k], func(i int) bool {
			c := conns[i]
			// After its last frame, a connection keeps the frames of its
			// addresses (a late RST or ACK) until a SYN opens another.
			return number >= c.First && (number <= c.Last || !fl.Open && !closed[i])
		})
		if fl.Open {
			for _, j := range byFlow[k] {
				if number > conns[j].Last {
					closed[j] = true
				}
			}
		}
		if i < 0 {
			continue
		}
		i = byFlow[k][i]
		found[i] = true
		if out == nil {
			if out, err = newWriter(bw, lt, opts.Application, secrets); err != nil {
				return st, err
			}
			intfs[lt] = 0
		}
		id, ok := intfs[lt]
		if !ok {
			if id, err = out.AddInterface(pcapgo.NgInterface{LinkType: lt, SnapLength: snapLength, TimestampResolution: 9, Name: fmt.Sprintf("intf%d", len(intfs))}); err != nil {
				return st, fmt.Errorf("bundle: %w", err)
			}
			intfs[lt] = id
		}
		ci = gopacket.CaptureInfo{Timestamp: ci.Timestamp, CaptureLength: len(data), Length: max(ci.Length, len(data)), InterfaceIndex: id}
		var po pcapgo.NgPacketOptions
		if cs := comments[number]; len(cs) > 0 {
			po.Comments = append(cs, fmt.Sprintf("frame %d of the original capture", number))
			st.Commented++
		}
		if err := out.WritePacketWithOptions(ci, data, po); err != nil {
			return st, fmt.Errorf("bundle: frame %d: %w", number, err)
		}
		st.Frames++
	}
	for _, f := range found {
		if f {
			st.Found++
		}
	}
	if out == nil {
		return st, errors.New("bundle: none of the connections' frames is in the capture")
	}
	return st, finish(out, bw, nil)
}

// flow is a connection's addresses in either direction.
type flow struct {
	lo, hi netip.AddrPort
	udp    bool
}

func flowOf(a, b netip.AddrPort, udp bool) flow {
	if b.Compare(a) < 0 {
		a, b = b, a
	}
	return flow{a, b, udp}
}

// newWriter starts the pcapng file: its section header, the first
// interface, and the secrets (when there are any) before any frame.
func newWriter(w io.Writer, lt layers.LinkType, app string, secrets []byte) (*pcapgo.NgWriter, error) {
	out, err := pcapgo.NewNgWriterInterface(w,
		pcapgo.NgInterface{LinkType: lt, SnapLength: snapLength, TimestampResolution: 9, Name: "intf0"},
		pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: app}})
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if len(secrets) > 0 {
		if err := out.WriteDecryptionSecretsBlock(capture.SecretsTypeTLSKeyLog, secrets); err != nil {
			return nil, fmt.Errorf("bundle: secrets: %w", err)
		}
	}
	return out, nil
}

// secretsOf returns the key log lines of the connections' client randoms.
func secretsOf(conns []Connection, kl *decrypt.KeyLog, st *Stats) []byte {
	if kl == nil {
		return nil
	}
	var out []byte
	for _, c := range conns {
		if n := len(out); c.ClientRandom != nil {
			if out = kl.AppendLines(out, c.ClientRandom); len(out) > n {
				st.SecretConns++
			}
		}
	}
	return out
}

// finish flushes what was written and returns err, or the flush's error.
func finish(out *pcapgo.NgWriter, bw *bufio.Writer, err error) error {
	if out != nil {
		if ferr := out.Flush(); err == nil && ferr != nil {
			err = ferr
		}
	}
	if ferr := bw.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("bundle: %w", ferr)
	}
	return err
}
