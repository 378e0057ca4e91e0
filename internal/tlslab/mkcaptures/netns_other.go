//go:build !linux

package main

import (
	"context"
	"errors"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
)

const (
	vethServer = "tlslab0"
	nsServer   = "tlslab-srv"
	nsClient   = "tlslab-cli"
)

var errNoNetns = errors.New("network namespaces need Linux")

func setupNetns(context.Context) (func(), error) { return nil, errNoNetns }

func startInNetns(string, tlslab.Scenario, ...tlslab.Option) (*tlslab.Server, error) {
	return nil, errNoNetns
}
