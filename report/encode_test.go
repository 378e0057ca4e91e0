package report

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/decrypt"
	"github.com/tlsdiag/tlsdiag/pipeline"
)

// checkConnectionJSON fails when c's own encoder and encoding/json (with
// appendIndent) differ, indented or compact.
func checkConnectionJSON(t *testing.T, c *Connection, what string) {
	t.Helper()
	for _, prefix := range []string{"", "    "} {
		want, werr := appendJSON([]byte("x"), c, prefix)
		got, gerr := c.appendJSON([]byte("x"), prefix)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("%s, prefix %q: error %v, encoding/json's %v", what, prefix, gerr, werr)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s, prefix %q: differs from encoding/json %s", what, prefix, whereDiffer(got, want))
		}
	}
}

// checkUnformattedJSON fails when the json format's way of writing r
// (converted into reused by setUnformatted, the addresses, Community ID
// and start formatted as it is written) differs from c's JSON.
func checkUnformattedJSON(t *testing.T, c, reused *Connection, ptrs *refs, r pipeline.Result, memo *certMemo, what string) {
	t.Helper()
	for _, prefix := range []string{"", "    "} {
		want, werr := c.appendJSON([]byte("x"), prefix)
		reused.setUnformatted(r, memo, ptrs)
		got, gerr := reused.appendJSONOf([]byte("x"), prefix, unformatted{conn: r.Conn})
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("%s, prefix %q: error %v, the Connection's %v", what, prefix, gerr, werr)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s, prefix %q: converted into a reused Connection, differs %s", what, prefix, whereDiffer(got, want))
		}
	}
}

// whereDiffer says at which byte got first differs from want, with 80
// bytes of each around it.
func whereDiffer(got, want []byte) string {
	i := 0
	for i < min(len(got), len(want)) && got[i] == want[i] {
		i++
	}
	return fmt.Sprintf("at byte %d:\n got …%s\nwant …%s", i, got[max(i-80, 0):min(i+80, len(got))], want[max(i-80, 0):min(i+80, len(want))])
}

// TestConnectionJSON holds Connection's encoder to encoding/json's bytes
// for every connection of every capture in testdata, the key-log
// captures decrypted.
func TestConnectionJSON(t *testing.T) {
	var files []string
	err := filepath.WalkDir("../testdata", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "bench" {
			return filepath.SkipDir
		}
		if ext := filepath.Ext(path); ext == ".pcap" || ext == ".pcapng" || ext == ".cap" {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 100 {
		t.Fatalf("found %d captures in testdata, expected more", len(files))
	}
	conns, decrypted := 0, 0
	for _, file := range files {
		cfg := pipeline.Config{Analysis: analysis.Options{KeyLog: keyLogOf(t, file)}}
		src, err := capture.OpenFile(file)
		if err != nil {
			continue // not a capture tlsdiag reads (tested elsewhere)
		}
		rs, _, _ := pipeline.Collect(context.Background(), src, cfg)
		src.Close()
		var memo certMemo
		var reused Connection // converted into again and again, as the json format's encoders do
		var ptrs refs
		for _, r := range rs {
			c := newConnection(r, &memo, 0)
			checkConnectionJSON(t, &c, file+" "+c.Client)
			checkUnformattedJSON(t, &c, &reused, &ptrs, r, &memo, file+" "+c.Client)
			conns++
			if c.Decrypted {
				decrypted++
			}
		}
	}
	if conns < 300 || decrypted < 30 {
		t.Fatalf("only %d connections (%d decrypted) in testdata's captures", conns, decrypted)
	}
	t.Logf("%d captures, %d connections, %d decrypted", len(files), conns, decrypted)
}

// keyLogOf returns the key log testdata keeps for file (file.keylog,
// file.keys for QUIC, or keylog.txt beside a public set's captures), or an
// empty one: with a key log the analysis also takes the secrets of a
// pcapng's Decryption Secrets Blocks, as read does.
func keyLogOf(t *testing.T, file string) *decrypt.KeyLog {
	t.Helper()
	base := strings.TrimSuffix(file, filepath.Ext(file))
	for _, name := range []string{base + ".keylog", base + ".keys", filepath.Join(filepath.Dir(file), "keylog.txt")} {
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		kl, err := decrypt.ParseKeyLog(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return kl
	}
	return new(decrypt.KeyLog)
}

// TestConnectionJSONRandom fills every field of Connection at random,
// so that a field the encoder does not write makes it fail.
func TestConnectionJSONRandom(t *testing.T) {
	for seed := range uint64(2000) {
		var c Connection
		fill(rand.New(rand.NewPCG(seed, 1)), reflect.ValueOf(&c).Elem(), 0)
		checkConnectionJSON(t, &c, fmt.Sprint("seed ", seed))
	}
}

func FuzzConnectionJSON(f *testing.F) {
	f.Add(uint64(0), uint64(0))
	f.Add(uint64(7), uint64(99))
	f.Fuzz(func(t *testing.T, a, b uint64) {
		var c Connection
		fill(rand.New(rand.NewPCG(a, b)), reflect.ValueOf(&c).Elem(), 0)
		checkConnectionJSON(t, &c, "fuzz")
	})
}

// fuzzStrings are texts that need each of encoding/json's escapes.
var fuzzStrings = []string{
	"", "a", "ok", `"q"`, `back\slash`, "tab\there", "nl\n\r", "\b\f\x00\x01\x1f\x7f",
	"<html>&", "\u2028\u2029", "é世界", "\xff\xfe bad", "\xe2\x80", "HTTP/1.1 200 OK\r\n",
}

// fill sets v, and everything under it, at random: pointers and slices
// nil, empty or set; numbers including NaN now and then.
func fill(r *rand.Rand, v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.String:
		if r.IntN(3) == 0 {
			b := make([]byte, r.IntN(12))
			for i := range b {
				b[i] = byte(r.UintN(256))
			}
			v.SetString(string(b))
		} else {
			v.SetString(fuzzStrings[r.IntN(len(fuzzStrings))])
		}
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		switch r.IntN(3) {
		case 0:
			v.SetInt(0)
		case 1:
			v.SetInt(r.Int64N(100000) - 50000)
		default:
			v.SetInt(int64(r.Uint64()))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(r.Uint64())
	case reflect.Float32, reflect.Float64:
		fs := []float64{0, 1, -1, 0.001, 12.345, 1e-7, 1e21, 123456789.125, 5e-324}
		f := fs[r.IntN(len(fs))]
		if r.IntN(2) == 0 {
			f = r.NormFloat64() * 1000
		}
		if r.IntN(200) == 0 {
			f = [](float64){nanF(), infF()}[r.IntN(2)]
		}
		v.SetFloat(f)
	case reflect.Pointer:
		if depth > 6 || r.IntN(3) == 0 {
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(r, p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		if depth > 6 || r.IntN(4) == 0 {
			return // nil
		}
		n := r.IntN(4)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(r, s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(r, v.Field(i), depth+1)
			}
		}
	}
}

func nanF() float64 { z := 0.0; return z / z }
func infF() float64 { z := 0.0; return 1 / z }

// BenchmarkConnectionJSON encodes the connections of testdata/captures,
// indented as the json format writes them.
func BenchmarkConnectionJSON(b *testing.B) {
	files, err := filepath.Glob("../testdata/captures/*.pcap")
	if err != nil || len(files) == 0 {
		b.Fatalf("no captures: %v", err)
	}
	var conns []Connection
	for _, file := range files {
		src, err := capture.OpenFile(file)
		if err != nil {
			b.Fatal(err)
		}
		rs, _, _ := pipeline.Collect(context.Background(), src, pipeline.Config{})
		src.Close()
		for _, r := range rs {
			conns = append(conns, NewConnection(r))
		}
	}
	var buf []byte
	n := 0
	for b.Loop() {
		for i := range conns {
			if buf, err = conns[i].appendJSON(buf[:0], "    "); err != nil {
				b.Fatal(err)
			}
			n += len(buf)
		}
	}
	b.SetBytes(int64(n / b.N))
}

// TestSkipPlain8 checks the word-at-a-time test against the byte table for
// every byte in every position.
func TestSkipPlain8(t *testing.T) {
	for pos := range 8 {
		for b := range 256 {
			w := []byte("abcdefgh")
			w[pos] = byte(b)
			want := b < utf8.RuneSelf && jsonPlain[b]
			if got := skipPlain8(string(w), 0) == 8; got != want {
				t.Fatalf("byte %#x at %d: skipPlain8 says plain %v, want %v", b, pos, got, want)
			}
		}
	}
	for s, want := range map[string]int{"": 0, "short": 0, "\x00\x00\x00\x00\x00\x00\x00\x00": 0, "        ": 8,
		"\xff\xff\xff\xff\xff\xff\xff\xff": 0, "abcdefghijklmnopq\"": 16, "abcdefgh\nbcdefgh12345678": 8} {
		if got := skipPlain8(s, 0); got != want {
			t.Errorf("skipPlain8(%q) = %d, want %d", s, got, want)
		}
	}
}

// The text a reset carried is written beside it, and only then.
func TestRSTTextJSON(t *testing.T) {
	c := &analysis.Connection{ClientCertificates: -1}
	c.TCP.RST, c.TCP.RSTFrom = capture.Frame{Number: 6}, capture.ServerToClient
	for _, text := range []string{"BIG-IP: [0x11c5672:3045] {peer} TCP RST from remote system", ""} {
		c.TCP.RSTText = text
		conn := NewConnection(pipeline.Result{Conn: c})
		b, err := conn.appendJSON(nil, "")
		if err != nil {
			t.Fatal(err)
		}
		want := `"rst":{"frame":6,"sender":"server"},"rst_text":"BIG-IP: [0x11c5672:3045] {peer} TCP RST from remote system","fin"`
		if text == "" {
			want = `"rst":{"frame":6,"sender":"server"},"fin"`
		}
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("no %s in %s", want, b)
		}
	}
}
