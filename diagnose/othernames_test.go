package diagnose

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestNamesOtherNames checks NamesOtherNames, by which only connections
// whose verdict names other names wait for the capture's end, on every
// capture in testdata: every connection with a named hello whose verdict
// is a middlebox drop or reset is one (or its other names could be
// missing), and it spares the connections whose named hello got nothing
// back for another reason.
func TestNamesOtherNames(t *testing.T) {
	var files []string
	err := filepath.WalkDir(testdataDir, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && d.Name() == "bench":
			return filepath.SkipDir // generated locally by make bench, not part of the tests
		case strings.HasSuffix(path, ".pcap") || strings.HasSuffix(path, ".pcapng"):
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	named, spared := 0, 0
	for _, f := range files {
		for _, c := range analyseCapture(t, f, nil) {
			v := Diagnose(c, Config{})
			names := NamesOtherNames(c)
			hello := c.ClientHello != nil && c.ClientHello.ServerName != ""
			// A client Finished dropped after a completed hello
			// (finishedDropped) is judged on its own connection: it
			// names no other names.
			if (v.Category == MiddleboxDrop || v.Category == MiddleboxReset) && hello && !names && !c.Established {
				t.Errorf("%s: connection %v → %v is %s, but NamesOtherNames says its verdict names no other names", f, c.Client, c.Server, v.Category)
			}
			switch {
			case names:
				named++
			case hello && !c.Established && c.ServerSide.Bytes == 0 && c.Path != nil:
				spared++ // held until the end before
			}
		}
	}
	if named == 0 || spared == 0 {
		t.Errorf("over %d captures: %d connections name other names, %d named hellos without an answer spared; want some of each", len(files), named, spared)
	}
	t.Logf("%d captures: %d connections wait for other names, %d no longer do", len(files), named, spared)
}

// The lab's SNI filter capture is a drop that names the other name.
func TestNamesOtherNamesSNIFilter(t *testing.T) {
	conns := analyseCapture(t, testdataDir+"/path_sni_filter.pcap", nil)
	if len(conns) != 2 || !NamesOtherNames(conns[0]) || NamesOtherNames(conns[1]) {
		t.Fatalf("want the dropped hello (of 2 connections) to name others, the completed one not")
	}
}
