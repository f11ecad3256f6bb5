package analytics

import (
	"context"
	"errors"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"

	"github.com/arrears/arrears/tlsconf"
)

// Causes Open and Cause name: configuration must fix them, a retry cannot.
var (
	// ErrAuth is a refused login: unknown user, wrong password, or a user
	// not allowed from this address.
	ErrAuth = errors.New("authentication refused")
	// ErrNotPermitted is a statement the user may not run: a write as a
	// read-only user, DDL (CREATE, DROP, ALTER, RENAME) with allow_ddl=0,
	// a database outside allow_databases, or a missing GRANT.
	ErrNotPermitted = errors.New("not permitted for this user")
	// ErrTLS is a failed TLS handshake: an untrusted or misnamed server
	// certificate, or TLS spoken to a plaintext port.
	ErrTLS = errors.New("tls handshake failed")
)

// Server exception codes of the causes, 18.16 and current releases.
var (
	authCodes   = map[int32]bool{192: true, 193: true, 194: true, 195: true, 516: true} // UNKNOWN_USER, WRONG_PASSWORD, REQUIRED_PASSWORD, IP_ADDRESS_NOT_ALLOWED, AUTHENTICATION_FAILED
	deniedCodes = map[int32]bool{164: true, 291: true, 392: true, 497: true}            // READONLY, DATABASE_ACCESS_DENIED, QUERY_IS_PROHIBITED, ACCESS_DENIED
)

// Cause classifies err as ErrAuth, ErrNotPermitted or ErrTLS, or returns
// nil.
func Cause(err error) error {
	var ex *proto.Exception
	if errors.As(err, &ex) {
		switch {
		case authCodes[ex.Code]:
			return ErrAuth
		case deniedCodes[ex.Code]:
			return ErrNotPermitted
		}
	}
	if tlsconf.IsHandshake(err) {
		return ErrTLS
	}
	return nil
}

// withCause adds err's Cause to the chain (errors.Is finds it).
func withCause(err error) error {
	if c := Cause(err); c != nil && !errors.Is(err, c) {
		return fmt.Errorf("%w: %w", c, err)
	}
	return err
}

// Exec, Query and PrepareBatch are the driver's, with a server's refusal
// named: "clickhouse: <cause>: code: N, message: ...".
func (c *Conn) Exec(ctx context.Context, query string, args ...any) error {
	return named(c.Conn.Exec(ctx, query, args...))
}

// Query is driver.Conn's Query with named server errors (see Exec).
func (c *Conn) Query(ctx context.Context, query string, args ...any) (driver.Rows, error) {
	rows, err := c.Conn.Query(ctx, query, args...)
	return rows, named(err)
}

// PrepareBatch is driver.Conn's PrepareBatch with named server errors (an
// INSERT the user may not run is refused here).
func (c *Conn) PrepareBatch(ctx context.Context, query string, opts ...driver.PrepareBatchOption) (driver.Batch, error) {
	b, err := c.Conn.PrepareBatch(ctx, query, opts...)
	return b, named(err)
}

// named prefixes a server exception with "clickhouse" and its Cause.
func named(err error) error {
	var ex *proto.Exception
	if err == nil || !errors.As(err, &ex) {
		return err
	}
	return fmt.Errorf("clickhouse: %w", withCause(err))
}
