package processor

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/schemas"
)

// Errors returned by Store.Apply and Store.Load.
var (
	// ErrFenced: another process claimed the partition since our Claim.
	ErrFenced = errors.New("partition owner epoch changed: this process is fenced")
	// ErrLost: the partition's metadata vanished (Redis flushed or lost).
	ErrLost = errors.New("partition state missing in store")
	// ErrStale: the batch was already applied.
	ErrStale = errors.New("batch already applied")
	// ErrStoreRefused marks a store error no retry can fix: the store
	// refused this client's credentials, certificate or a command or key
	// (sinks/redisstore: WRONGPASS, NOPERM, a failed TLS handshake). Run
	// stops with it instead of retrying the partition forever.
	ErrStoreRefused = errors.New("the state store refused this client")
)

// Errors of the processing loop.
var (
	// errSession: the Kafka transaction session cannot go on (Begin or End
	// failed in a way franz-go says not to retry); the loop closes it and
	// builds a new one, which rewinds every partition to the committed offsets.
	errSession = errors.New("kafka transaction session unusable")
	// errProduce: an output record of the open transaction failed.
	errProduce = errors.New("output produce failed")
	// errEncode: an output record could not be encoded.
	errEncode = errors.New("output encode failed")
)

// Class is what the loop does about an error.
type Class int

const (
	// Retry: transient (schema registry, network, store, broker). The
	// transaction aborts, the partition's fetch pauses with a backoff and
	// the records are read again from the committed offsets; nothing is
	// dead-lettered.
	Retry Class = iota + 1
	// DeadLetter: the record itself is bad. It goes to the DLQ with its
	// reason inside the transaction and processing goes on.
	DeadLetter
	// Fatal: the session cannot continue (fenced by a newer owner, an End
	// error franz-go says to stop on, the client closed). The loop drops
	// its session and partitions and starts a new session; configuration
	// errors never get this far (New and Validate refuse them).
	Fatal
)

func (c Class) String() string {
	switch c {
	case Retry:
		return "retry"
	case DeadLetter:
		return "dead_letter"
	case Fatal:
		return "fatal"
	}
	return "unknown"
}

// RecordError says why one input record is refused: it carries the stable
// dead-letter code and the bounded error class (a metric label).
type RecordError struct {
	Code  string // FUTURE_EVENT_TIME, KEY_MISMATCH, MALFORMED, ...
	Class string // decode, validation, ledger
	Err   error
}

func (e *RecordError) Error() string { return e.Code + ": " + e.Err.Error() }
func (e *RecordError) Unwrap() error { return e.Err }

// rejectf builds a validation RecordError.
func rejectf(code, format string, args ...any) *RecordError {
	return &RecordError{Code: code, Class: "validation", Err: fmt.Errorf(format, args...)}
}

// classify is the one place that decides retry, dead-letter or fatal.
// Decode, apply, emit, commit and store errors all come through it.
func classify(err error) Class {
	var rec *RecordError
	var rej *core.RejectError
	switch {
	case err == nil:
		return 0
	case schemas.Transient(err):
		return Retry // registry down: never dead-letter a good record
	case errors.As(err, &rec), errors.As(err, &rej):
		return DeadLetter
	case errors.Is(err, ErrFenced), errors.Is(err, errSession), errors.Is(err, kgo.ErrClientClosed):
		return Fatal
	case errors.Is(err, kerr.ProducerFenced), errors.Is(err, kerr.InvalidProducerEpoch),
		errors.Is(err, kerr.TransactionalIDAuthorizationFailed), errors.Is(err, kerr.InvalidTxnState):
		return Fatal
	case securityFailure(err), errors.Is(err, ErrStoreRefused):
		return Fatal // Run stops: retrying a refused credential or ACL cannot succeed
	case errors.Is(err, context.Canceled):
		return Retry // shutting down: nothing is dead-lettered
	}
	// Store, network, broker, encode (ours) and produce failures: transient
	// as far as the record is concerned. A bug in our own encoding keeps
	// retrying with backoff and turns /readyz unready; it never loses the
	// record.
	return Retry
}

// securityFailure: the brokers refused this client's credentials,
// certificate or ACLs (kafkax.IsSecurity). Run returns it instead of
// starting session after session.
func securityFailure(err error) bool { return kafkax.IsSecurity(err) }

// checkAccess pings the brokers as the session will (kafkax.Ping: TLS,
// SASL, the inputs and the group) and returns a security failure: a
// consumer group client retries a refused SASL login forever without
// telling its poll. Other errors are left to the session's own retries.
func (p *Processor) checkAccess(ctx context.Context) error {
	if err := kafkax.Ping(ctx, p.d.kcfg, p.d.cfg.GroupID, p.d.kcfg.Topics.Inputs()...); securityFailure(err) {
		return err
	}
	return nil
}

// decodeError wraps a codec error of an input record as the loop sees it:
// transient registry trouble stays a plain error (Retry), anything else is
// a RecordError with the codec's dead-letter code.
func decodeError(err error) error {
	if schemas.Transient(err) {
		return fmt.Errorf("decode: %w", err)
	}
	code := schemas.Code(err)
	if code == "" {
		code = schemas.CodeMalformed
	}
	return &RecordError{Code: code, Class: "decode", Err: err}
}

// ErrEffectiveTooSoon: a policy version's effective_from is closer than
// processor.policy_lead_time (or in the past).
var ErrEffectiveTooSoon = errors.New("effective_from too soon")

// ErrNoPolicyTopic: `policy apply` found no kafka.topics.policies topic.
var ErrNoPolicyTopic = errors.New("no policy topic")

// ErrEffectiveTaken: the policy already has a version effective from
// that instant.
var ErrEffectiveTaken = errors.New("a version is already effective from that instant")
