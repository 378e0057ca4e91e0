package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"
)

// cutBefore rewrites the pcap file at path without the frames captured
// before t, keeping link type, snap length and timestamp resolution, and
// returns how many it dropped.
func cutBefore(path string, t time.Time) (int, error) {
	in, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	r, err := pcapgo.NewReader(bufio.NewReader(in))
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	tmp := path + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp)
	defer out.Close()
	bw := bufio.NewWriter(out)
	w := pcapgo.NewWriter(bw)
	if r.Resolution() == gopacket.TimestampResolutionNanosecond {
		w = pcapgo.NewWriterNanos(bw)
	}
	if err := w.WriteFileHeader(r.Snaplen(), r.LinkType()); err != nil {
		return 0, err
	}
	dropped := 0
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", path, err)
		}
		if ci.Timestamp.Before(t) {
			dropped++
			continue
		}
		if err := w.WritePacket(ci, data); err != nil {
			return 0, err
		}
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	if err := out.Close(); err != nil {
		return 0, err
	}
	return dropped, os.Rename(tmp, path)
}
