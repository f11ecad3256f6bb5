package api

import "errors"

// ErrUnknownAccount is a StateReader's answer for an account Redis has no
// state for (404).
var ErrUnknownAccount = errors.New("unknown account")

// ErrConfig wraps a configuration problem found while building the Server.
var ErrConfig = errors.New("api configuration")
