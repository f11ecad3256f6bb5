package chsink

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/schemas"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want errClass
	}{
		// transient: retried, never dead-lettered
		{errors.New("dial tcp 127.0.0.1:9000: connect: connection refused"), retry},
		{&net.OpError{Op: "dial", Err: errors.New("connection reset by peer")}, retry},
		{fmt.Errorf("insert: %w", &clickhouse.Exception{Code: 60, Message: "Table x doesn't exist"}), retry},
		{fmt.Errorf("insert: %w", &clickhouse.Exception{Code: 252, Message: "Too many parts"}), retry},
		{fmt.Errorf("insert: %w", context.DeadlineExceeded), retry},
		{fmt.Errorf("decode event: %w", fmt.Errorf("%w: GET /schemas/ids/7: connection refused", schemas.ErrRegistry)), retry},
		{fmt.Errorf("produce: %w", kerr.NotLeaderForPartition), retry},
		{fmt.Errorf("produce: %w", kerr.RequestTimedOut), retry},
		{fmt.Errorf("produce: %w", kgo.ErrRecordTimeout), retry},
		// the record itself: dead-lettered once
		{fmt.Errorf("insert: %w", &clickhouse.Exception{Code: 53, Message: "Type mismatch"}), deadLetter},
		{fmt.Errorf("insert: %w", &clickhouse.Exception{Code: 407, Message: "Decimal math overflow"}), deadLetter},
		{fmt.Errorf("insert: %w", &analytics.RowError{Index: 3, Err: errors.New("bad decimal")}), deadLetter},
		{fmt.Errorf("decode event: %w", fmt.Errorf("%w: truncated", schemas.ErrMalformed)), deadLetter},
		{fmt.Errorf("decode event: %w", &schemas.UnknownSchemaError{ID: 42}), deadLetter},
		{fmt.Errorf("decode event: %w", &schemas.FieldError{Field: "amount", Err: schemas.ErrInvalidField}), deadLetter},
		{fmt.Errorf("decode event: %w", errNoPayload), deadLetter},
		{fmt.Errorf("produce: %w", kerr.MessageTooLarge), deadLetter},
		// configuration or credentials: fatal
		{fmt.Errorf("insert: %w", &clickhouse.Exception{Code: 516, Message: "Authentication failed"}), fatal},
		{fmt.Errorf("insert: %w", &clickhouse.Exception{Code: 193, Message: "Wrong password"}), fatal},
		{fmt.Errorf("produce: %w", kerr.TopicAuthorizationFailed), fatal},
		{fmt.Errorf("produce: %w", kerr.SaslAuthenticationFailed), fatal},
		{fmt.Errorf("produce: %w", kgo.ErrClientClosed), fatal},
	} {
		if got := classify(tc.err); got != tc.want {
			t.Errorf("classify(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
	if got := classify(nil); got != "" {
		t.Errorf("classify(nil) = %s", got)
	}
}
