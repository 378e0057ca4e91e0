package report

// CaptureStats are what a live capture counted, written at the end of the
// json and ndjson formats (the other formats carry them as notes of the
// summary): the kernel's counters, in total and per socket, and what was
// read of them.
//
// Field reference (the json format's "capture" object, and that of the
// ndjson format's summary line):
//
//   - interface (string): the interface captured on.
//   - path (string): the capture path and its sockets, as the start line
//     says ("AF_PACKET TPACKET_V3, fan-out by flow over 2 sockets").
//   - received (number): packets that passed the capture filter, on every
//     socket, those dropped included.
//   - dropped (number): packets the kernel dropped for lack of buffer
//     space: the capture missed them, and the connections they belonged to
//     may have gaps.
//   - dropped_by_interface (number): packets the interface or its driver
//     dropped (libpcap only; 0 otherwise).
//   - sockets (list of {received, dropped}): the same counts for each
//     socket of a fan-out group, in order; one entry for one socket.
//   - frames (number): frames read from the capture.
//   - tcp_segments (number): TCP segments among them.
//   - tcp_connections (number): TCP connections seen, reported or not.
type CaptureStats struct {
	Interface          string        `json:"interface"`
	Path               string        `json:"path"`
	Received           int64         `json:"received"`
	Dropped            int64         `json:"dropped"`
	DroppedByInterface int64         `json:"dropped_by_interface"`
	Sockets            []SocketStats `json:"sockets"`
	Frames             int64         `json:"frames"`
	TCPSegments        int64         `json:"tcp_segments"`
	TCPConnections     int64         `json:"tcp_connections"`
}

// SocketStats are one capture socket's kernel counters.
type SocketStats struct {
	Received int64 `json:"received"`
	Dropped  int64 `json:"dropped"`
}

// ndjsonSummary is the last line of the ndjson format when the capture's
// statistics are known: the summary's fields, "type": "summary" to tell it
// from a connection, and the capture's statistics.
type ndjsonSummary struct {
	Type string `json:"type"`
	Summary
	Capture *CaptureStats `json:"capture"`
}

// CloseCapture ends the output as Close does, with the capture's
// statistics: inside the json document ("capture", after "summary"), and
// as a last ndjson line, {"type": "summary", …, "capture": {…}}, that
// carries the summary too. The other formats have no place for them: give
// them as notes.
func (s *Stream) CloseCapture(notes []string, cs CaptureStats) error {
	if cs.Sockets == nil {
		cs.Sockets = []SocketStats{}
	}
	s.capture = &cs
	return s.Close(notes)
}

// Summary returns the summary of the connections written so far, with the
// notes given to Close: a format without one (csv) can say it elsewhere.
func (s *Stream) Summary() Summary { return s.sum }
