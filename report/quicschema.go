package report

import (
	"encoding/hex"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
)

// QUIC is the QUIC-level part of a QUIC connection (transport "quic"):
//   - version (string): the version of the client's first packet ("v1",
//     "v2", "draft-29", or hex); versions: every version its packets used.
//   - version_negotiation (object, omitted when none): frame and the
//     versions the server listed.
//   - retry (object, omitted when none): frame, tag_valid (the integrity
//     tag checked out against the client's connection ID).
//   - connection_closes (list): frame, sender, level (initial, handshake,
//     1rtt), application (bool), error_code, error (its name), reason.
//   - datagrams (client, server): datagrams each side sent;
//     undecrypted (client, server): packets that could not be read.
//   - original_dcid, client_cid, server_cid (hex); cid_changes.
//   - crypto_cut: handshake bytes not read because of the memory bounds.
//   - fallback (object, omitted when none): the TCP connection the client
//     opened to the same server after the QUIC one got no answer: client,
//     frame, after_ms, established.
type QUIC struct {
	Version            string              `json:"version"`
	Versions           []string            `json:"versions"`
	VersionNegotiation *VersionNegotiation `json:"version_negotiation,omitempty"`
	Retry              *Retry              `json:"retry,omitempty"`
	Closes             []ConnectionClose   `json:"connection_closes"`
	Datagrams          PerSide[int]        `json:"datagrams"`
	Undecrypted        PerSide[int]        `json:"undecrypted"`
	OriginalDCID       string              `json:"original_dcid"`
	ClientCID          string              `json:"client_cid"`
	ServerCID          string              `json:"server_cid"`
	CIDChanges         int                 `json:"cid_changes"`
	CryptoCut          int64               `json:"crypto_cut"`
	Fallback           *Fallback           `json:"fallback,omitempty"`
}

// VersionNegotiation is a server's Version Negotiation packet.
type VersionNegotiation struct {
	Frame    int64    `json:"frame"`
	Versions []string `json:"versions"`
}

// Retry is a server's Retry packet.
type Retry struct {
	Frame    int64 `json:"frame"`
	TagValid bool  `json:"tag_valid"`
}

// ConnectionClose is a CONNECTION_CLOSE frame.
type ConnectionClose struct {
	Frame       int64  `json:"frame"`
	Sender      string `json:"sender"`
	Level       string `json:"level"`
	Application bool   `json:"application"`
	ErrorCode   uint64 `json:"error_code"`
	Error       string `json:"error"`
	Reason      string `json:"reason"`
}

// Fallback is the TCP connection that replaced an unanswered QUIC one.
type Fallback struct {
	Client      string  `json:"client"`
	Frame       int64   `json:"frame"`
	AfterMS     float64 `json:"after_ms"`
	Established bool    `json:"established"`
}

func transportOf(c *analysis.Connection) string {
	if c.Transport() != analysis.TransportTCP {
		return c.Transport().String()
	}
	return ""
}

func newQUIC(c *analysis.Connection) *QUIC {
	q := c.QUIC
	if q == nil {
		return nil
	}
	out := &QUIC{
		Version: q.Version.String(), Versions: []string{}, Closes: []ConnectionClose{},
		Datagrams:    PerSide[int]{Client: q.Datagrams[capture.ClientToServer], Server: q.Datagrams[capture.ServerToClient]},
		Undecrypted:  PerSide[int]{Client: q.Undecrypted[capture.ClientToServer], Server: q.Undecrypted[capture.ServerToClient]},
		OriginalDCID: hex.EncodeToString(q.OriginalDCID), ClientCID: hex.EncodeToString(q.ClientCID), ServerCID: hex.EncodeToString(q.ServerCID),
		CIDChanges: q.CIDChanges, CryptoCut: q.CryptoCut,
	}
	for _, v := range q.Versions {
		out.Versions = append(out.Versions, v.String())
	}
	if vn := q.VersionNegotiation; vn != nil {
		out.VersionNegotiation = &VersionNegotiation{Frame: vn.Frame.Number, Versions: []string{}}
		for _, v := range vn.Versions {
			out.VersionNegotiation.Versions = append(out.VersionNegotiation.Versions, v.String())
		}
	}
	if r := q.Retry; r != nil {
		out.Retry = &Retry{Frame: r.Frame.Number, TagValid: r.TagValid}
	}
	for _, cl := range q.Closes {
		out.Closes = append(out.Closes, ConnectionClose{
			Frame: cl.Frame.Number, Sender: cl.Dir.String(), Level: cl.Level.String(), Application: cl.Application,
			ErrorCode: cl.ErrorCode, Error: cl.ErrorName(), Reason: cl.Reason,
		})
	}
	if fb := q.Fallback; fb != nil {
		out.Fallback = &Fallback{Client: fb.Client.String(), Frame: fb.First.Number,
			AfterMS: float64(fb.First.Time.Sub(c.First.Time).Microseconds()) / 1000, Established: fb.Established}
	}
	return out
}
