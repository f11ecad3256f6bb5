package redisstore

import (
	"errors"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/tlsconf"
)

// Causes Connect names: a retry cannot fix any of them.
var (
	// ErrAuth is a refused AUTH: wrong username or password, a disabled
	// user, or none given to a server that requires one.
	ErrAuth = errors.New("authentication refused")
	// ErrNoPerm is a command or key the ACL user may not use.
	ErrNoPerm = errors.New("not permitted by the ACL")
	// ErrTLS is a failed TLS handshake: an untrusted or misnamed server
	// certificate, or TLS spoken to a plaintext port or the reverse.
	ErrTLS = errors.New("tls handshake failed")
)

// Cause classifies err as ErrAuth, ErrNoPerm or ErrTLS, or returns nil: a
// cause that configuration must fix, never retried.
func Cause(err error) error {
	if err == nil {
		return nil
	}
	var re redis.Error
	if errors.As(err, &re) {
		msg := re.Error()
		switch {
		case strings.HasPrefix(msg, "WRONGPASS"), strings.HasPrefix(msg, "NOAUTH"):
			return ErrAuth
		case strings.HasPrefix(msg, "NOPERM"):
			return ErrNoPerm
		}
	}
	if tlsconf.IsHandshake(err) {
		return ErrTLS
	}
	return nil
}

// Permanent says whether err has a Cause: the processor's retry
// classification should stop on it rather than retry.
func Permanent(err error) bool { return Cause(err) != nil }

// refused marks a store command's error that has a Cause as
// processor.ErrStoreRefused (its text unchanged), so that the processor
// stops on a permission lost mid-run instead of retrying forever.
func refused(err error) error {
	if !Permanent(err) {
		return err
	}
	return refusal{err}
}

type refusal struct{ error }

func (r refusal) Unwrap() []error { return []error{r.error, processor.ErrStoreRefused} }
