package main

// Temporary: keeps the pinned dependencies in go.mod while the packages that
// use them are written. Removed once every import below has a real user.
import (
	_ "github.com/gopacket/gopacket/layers"
	_ "github.com/gopacket/gopacket/pcapgo"
	_ "github.com/olekukonko/tablewriter"
	_ "github.com/spf13/pflag"
	_ "golang.org/x/crypto/cryptobyte"
)
