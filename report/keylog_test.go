package report

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/pipeline"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// TestKeyLogNotes checks the summary's account of the key log: secrets,
// connections opened and the first without a key; and the note that the
// key log belongs to other connections when it opened none.
func TestKeyLogNotes(t *testing.T) {
	conn := func(d analysis.Decryption, random byte) pipeline.Result {
		hello := &tlsparse.ClientHello{Random: bytes.Repeat([]byte{random}, 32)}
		return pipeline.Result{Conn: &analysis.Connection{ClientHello: hello, Decryption: d}}
	}
	for _, tt := range []struct {
		name    string
		results []pipeline.Result
		want    []string
	}{
		{"mixed", []pipeline.Result{conn(analysis.DecryptionDecrypted, 1), conn(analysis.DecryptionNone, 2), conn(analysis.DecryptionNoKey, 0xab), conn(analysis.DecryptionNoKey, 4)},
			[]string{"key log: 7 secrets, 1 connection opened, 2 without a key (first: #3, client random abababababababab…)"}},
		{"other connections", []pipeline.Result{conn(analysis.DecryptionNoKey, 0xcd)},
			[]string{"key log: 7 secrets, 0 connections opened, 1 without a key (first: #1, client random cdcdcdcdcdcdcdcd…)",
				"this key log belongs to other connections: none of its secrets is for a client random of this capture"}},
		{"failed", []pipeline.Result{conn(analysis.DecryptionFailed, 1), conn(analysis.DecryptionUnsupportedCipher, 2)},
			[]string{"key log: 7 secrets, 0 connections opened, 1 with a cipher suite tlsdiag does not decrypt, 1 whose records the secrets did not open"}},
		{"no key log at work", []pipeline.Result{conn(analysis.DecryptionNone, 1)}, []string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, FormatJSON, tt.results, Options{KeyLogSecrets: func() int { return 7 }}); err != nil {
				t.Fatal(err)
			}
			var doc struct{ Summary Summary }
			if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(doc.Summary.Notes, tt.want) {
				t.Errorf("notes %q, want %q", doc.Summary.Notes, tt.want)
			}
		})
	}
}
