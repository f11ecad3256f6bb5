package tlsconf

import "errors"

// ErrNoCertificates is a CA file with no PEM certificate in it.
var ErrNoCertificates = errors.New("no PEM certificate found")
