package capture

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// foreignPeek is how much of a file foreignFormat looks at: a tar
// archive's magic is at offset 257.
const foreignPeek = 512

// foreignFormat names what a file that is neither pcap nor pcapng is, from
// its first bytes (head) and, for formats without a magic number, its
// name, and says how to make a capture tlsdiag reads of it. It returns ""
// when it does not know the file.
func foreignFormat(name string, head []byte) string {
	convert := func(what string) string {
		in, out := name, strings.TrimSuffix(name, filepath.Ext(name))+".pcapng"
		if name == "-" {
			in, out = "IN", "OUT.pcapng"
		}
		return fmt.Sprintf("%s: not read; convert it first (editcap -F pcapng %s %s)", what, shellWord(in), shellWord(out))
	}
	has := func(magic string) bool { return bytes.HasPrefix(head, []byte(magic)) }
	switch {
	case has("BZh"):
		return fmt.Sprintf("bzip2-compressed: not read; decompress it first (bunzip2 -k, or bzcat %s | tlsdiag read -)", shellWord(name))
	case has("\xfd7zXZ"):
		return fmt.Sprintf("xz-compressed: not read; decompress it first (unxz -k, or xzcat %s | tlsdiag read -)", shellWord(name))
	case has("\x34\xcd\xb2\xa1"), has("\xa1\xb2\xcd\x34"):
		return convert("modified (Kuznetzov) pcap")
	case has("snoop\x00\x00\x00"):
		return convert("Sun snoop capture")
	case has("GMBU"), has("RTSS"):
		return convert("Microsoft Network Monitor capture")
	case has("TRSNIFF data    \x1a"), has("XCP\x00"):
		return convert("Sniffer (NetXray) capture")
	case has("ObserverPktBuffer"):
		return convert("Viavi Observer capture")
	case netscalerTrace(head):
		return convert("NetScaler (Citrix ADC) trace")
	case has("PK\x03\x04"):
		return "a zip archive: not read; unzip it and read the captures inside"
	case has("7z\xbc\xaf\x27\x1c"):
		return "a 7-Zip archive: not read; extract it (7z x) and read the captures inside"
	case has("Rar!\x1a\x07"):
		return "a RAR archive: not read; extract it and read the captures inside"
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return "a tar archive: not read; extract it (tar xf) and read the captures inside"
	case strings.EqualFold(filepath.Ext(name), ".etl"):
		return "a Windows ETL trace (pktmon, netsh trace): not read; convert it on Windows first (pktmon etl2pcap, or Microsoft's etl2pcapng)"
	case printable(head):
		return "text, not a capture: save packets, not printed output (tcpdump -w FILE, tshark -w FILE)"
	}
	return ""
}

// netscalerTrace reports whether head begins a NetScaler trace (nstrace),
// whose first page opens with a signature record: "NetScaler Performance
// Data", "NetScaler V20 Performance Data", "Netscaler V30 …".
func netscalerTrace(head []byte) bool {
	head = head[:min(len(head), 64)]
	return bytes.Contains(bytes.ToLower(head), []byte("netscaler")) && bytes.Contains(head, []byte("Performance Data"))
}

// printable reports whether head is text: valid UTF-8 without control
// characters other than tab, newline and carriage return.
func printable(head []byte) bool {
	if len(head) == 0 {
		return false
	}
	// A file longer than head may be cut in the middle of a character.
	for len(head) > 0 {
		r, n := utf8.DecodeRune(head)
		if r == utf8.RuneError && n == 1 {
			return len(head) < utf8.UTFMax && !utf8.FullRune(head)
		}
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return false
		}
		head = head[n:]
	}
	return true
}

// shellWord quotes s for a POSIX shell when it holds more than letters,
// digits and . _ - / + : , =.
func shellWord(s string) string {
	safe := func(r rune) bool {
		return r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-/+:,=", r))
	}
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !safe(r) }) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
