package core

import (
	"errors"

	"github.com/arrears/arrears/processor/internal/varint"
)

const stateVersion = 2

var errCorrupt = errors.New("corrupt account state")

func appendPart(b []byte, marshal func() ([]byte, error)) ([]byte, error) {
	p, err := marshal()
	if err != nil {
		return nil, err
	}
	return varint.AppendBytes(b, p), nil
}
