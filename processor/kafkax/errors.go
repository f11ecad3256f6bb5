package kafkax

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/tlsconf"
)

// Security errors: the brokers refused who we are or we refused who they
// are. Retrying does not help, so commands stop at start with one of these
// (Ping, Explain) instead of retrying; docs/security.md says what each means.
var (
	// ErrAuthentication: SASL failed (wrong user or password, a mechanism
	// the listener does not enable).
	ErrAuthentication = errors.New("kafka: SASL authentication failed")
	// ErrTLS: the TLS handshake failed (a server certificate our CA did not
	// sign or for another name, the broker refused our client certificate,
	// TLS against a plaintext listener).
	ErrTLS = errors.New("kafka: TLS handshake failed")
	// ErrAuthorization: an ACL is missing for this principal.
	ErrAuthorization = errors.New("kafka: not authorized")
)

// IsSecurity reports whether err is (or wraps) an authentication, TLS or
// authorization failure, raw from franz-go or already explained.
func IsSecurity(err error) bool { return securityKind(err) != nil }

// securityKind is the sentinel err falls under, nil if none.
func securityKind(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrAuthentication), errors.Is(err, kerr.SaslAuthenticationFailed),
		errors.Is(err, kerr.UnsupportedSaslMechanism), errors.Is(err, kerr.IllegalSaslState):
		return ErrAuthentication
	case errors.Is(err, ErrTLS), tlsconf.IsHandshake(err):
		return ErrTLS
	case errors.Is(err, ErrAuthorization), errors.Is(err, kerr.TopicAuthorizationFailed),
		errors.Is(err, kerr.GroupAuthorizationFailed), errors.Is(err, kerr.ClusterAuthorizationFailed),
		errors.Is(err, kerr.TransactionalIDAuthorizationFailed), errors.Is(err, kerr.DelegationTokenAuthorizationFailed):
		return ErrAuthorization
	}
	return nil
}

// Explain wraps a security failure with what arrears was doing it as
// (brokers, mechanism, user, CA file), never the password; any other error
// is returned as is. The result wraps both the sentinel and err.
func (c Config) Explain(err error) error {
	kind := securityKind(err)
	if kind == nil || errors.Is(err, kind) { // not ours, or explained already
		return err
	}
	switch kind {
	case ErrAuthentication:
		return fmt.Errorf("%w for user %q (%s, brokers %v; check kafka.sasl.username and the password): %w",
			kind, c.SASL.Username, c.SASL.Mechanism, c.Brokers, err)
	case ErrTLS:
		ca := c.TLS.CAFile
		if ca == "" {
			ca = "the system roots"
		}
		return fmt.Errorf("%w with brokers %v (server certificate checked against %s, server name %q): %w",
			kind, c.Brokers, ca, c.TLS.ServerName, err)
	}
	return fmt.Errorf("%w: principal User:%s lacks an ACL (docs/security.md lists each role's): %w", kind, c.SASL.Username, err)
}

// Ping checks, before a command starts its work, that the brokers accept
// this client: it connects (TLS, SASL), reads the metadata of topics and,
// when group is set, describes that consumer group. A security failure
// comes back through Explain within one dial timeout instead of being
// retried; other failures are returned wrapped.
func Ping(ctx context.Context, c Config, group string, topics ...string) error {
	cl, err := kgo.NewClient(c.ClientOpts()...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, c.DialTimeout+5*time.Second)
	defer cancel()
	adm := kadm.NewClient(cl)
	md, err := adm.Metadata(ctx, topics...)
	if err != nil {
		return c.Explain(fmt.Errorf("kafka metadata of topics %v from %v: %w", topics, c.Brokers, err))
	}
	if err := c.denied(md.Topics, topics); err != nil {
		return err
	}
	if group == "" {
		return nil
	}
	for {
		gs, err := adm.DescribeGroups(ctx, group)
		if err == nil {
			err = gs.Error()
		}
		switch {
		case err == nil, errors.Is(err, kerr.GroupIDNotFound): // not created yet, but ours to describe
			return nil
		case kerr.IsRetriable(err) && ctx.Err() == nil: // a new broker's coordinator is still loading
			time.Sleep(250 * time.Millisecond)
		default:
			return c.Explain(fmt.Errorf("describe group %s: %w", group, err))
		}
	}
}

// denied is the explained authorization error naming the topics of td this
// principal may not describe, nil if none.
func (c Config) denied(td kadm.TopicDetails, topics []string) error {
	var denied []string
	for _, t := range topics {
		if d, ok := td[t]; ok && errors.Is(d.Err, kerr.TopicAuthorizationFailed) {
			denied = append(denied, t)
		}
	}
	if len(denied) == 0 {
		return nil
	}
	sort.Strings(denied)
	return c.Explain(fmt.Errorf("describe topics %v: %w", denied, kerr.TopicAuthorizationFailed))
}
