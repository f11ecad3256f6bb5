package group

import "errors"

// Sentinel errors.
var (
	// ErrBadRecord: a group-contributions record that does not decode.
	ErrBadRecord = errors.New("bad group contribution record")
	// ErrBadNode: a stored group node that does not decode.
	ErrBadNode = errors.New("bad stored group node")
)
