package chsink

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// TestClassifyAccess: what a least-privilege user or a TLS misconfiguration
// makes ClickHouse refuse stops the sink (fatal) instead of a silent retry
// loop.
func TestClassifyAccess(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("insert: %w", &clickhouse.Exception{Code: 164, Message: "Cannot insert into table in readonly mode"}),
		fmt.Errorf("drop: %w", &clickhouse.Exception{Code: 392, Message: "DDL queries are prohibited for the user"}),
		fmt.Errorf("insert: %w", &clickhouse.Exception{Code: 291, Message: "Access denied to database x"}),
		fmt.Errorf("dial: %w", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}),
	} {
		if got := classify(err); got != fatal {
			t.Errorf("classify(%v) = %s, want fatal", err, got)
		}
	}
}
