package kafkax_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/testkit"
)

// pingSoon pings with a deadline far beyond one dial timeout, so that a
// refusal that was retried instead of reported shows as a deadline error.
func pingSoon(t *testing.T, c kafkax.Config, group string, topics ...string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := kafkax.Ping(ctx, c, group, topics...)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ping retried until the deadline instead of failing: %v", err)
	}
	return err
}

// TestSecureConnect: the secured broker accepts every mechanism arrears
// offers and a client certificate (mTLS) over SASL_SSL.
func TestSecureConnect(t *testing.T) {
	base := testkit.SecureKafka(t, "admin")
	for _, mech := range []string{kafkax.MechanismPlain, kafkax.MechanismScramSHA256, kafkax.MechanismScramSHA512} {
		c := base
		c.SASL.Mechanism = mech
		if err := pingSoon(t, c, ""); err != nil {
			t.Errorf("%s: %v", mech, err)
		}
	}
	c := base
	c.TLS.CertFile = filepath.Join(testkit.SecureKafkaDir, "certs", "client.pem")
	c.TLS.KeyFile = filepath.Join(testkit.SecureKafkaDir, "certs", "client-key.pem")
	if err := pingSoon(t, c, ""); err != nil {
		t.Errorf("with a client certificate: %v", err)
	}
	proc := testkit.SecureKafka(t, "processor")
	if err := pingSoon(t, proc, "arrears", proc.Topics.Events, proc.Topics.Status); err != nil {
		t.Errorf("processor on its own topics and group: %v", err)
	}
}

// TestSecureRefusals: a wrong SCRAM password, a server certificate our CA
// did not sign and a principal without ACLs each fail at once with an
// error naming kafka and the cause, never the password.
func TestSecureRefusals(t *testing.T) {
	t.Run("wrong password", func(t *testing.T) {
		c := testkit.SecureKafka(t, "processor")
		c.SASL.Password = "not-the-password-0123"
		err := pingSoon(t, c, "")
		if !errors.Is(err, kafkax.ErrAuthentication) {
			t.Fatalf("got %v, want ErrAuthentication", err)
		}
		for _, want := range []string{"kafka: SASL authentication failed", `user "processor"`, "SCRAM-SHA-512", "127.0.0.1:"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q: %v", want, err)
			}
		}
		if strings.Contains(err.Error(), c.SASL.Password) {
			t.Errorf("error shows the password: %v", err)
		}
	})
	t.Run("untrusted server certificate", func(t *testing.T) {
		c := testkit.SecureKafka(t, "processor")
		c.TLS.CAFile = filepath.Join(testkit.SecureKafkaDir, "certs", "other-ca.pem")
		err := pingSoon(t, c, "")
		if !errors.Is(err, kafkax.ErrTLS) || !strings.Contains(err.Error(), "x509") || !strings.Contains(err.Error(), "other-ca.pem") {
			t.Fatalf("got %v, want ErrTLS naming x509 and the CA file", err)
		}
	})
	t.Run("no ACL on the actions topic", func(t *testing.T) {
		c := testkit.SecureKafka(t, "nobody")
		err := pingSoon(t, c, "", c.Topics.Actions)
		if !errors.Is(err, kafkax.ErrAuthorization) || !strings.Contains(err.Error(), "User:nobody") || !strings.Contains(err.Error(), c.Topics.Actions) {
			t.Fatalf("got %v, want ErrAuthorization naming User:nobody and %s", err, c.Topics.Actions)
		}
		// The group check too: sink's group is not nobody's.
		if err := pingSoon(t, c, "arrears-sink"); !errors.Is(err, kafkax.ErrAuthorization) {
			t.Errorf("describe another role's group: got %v, want ErrAuthorization", err)
		}
		// A plain consumer of the topic gets the refusal from its poll.
		cl, err := kgo.NewClient(append(c.ClientOpts(), kgo.ConsumeTopics(c.Topics.Actions))...)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var got error
		for got == nil && ctx.Err() == nil {
			cl.PollFetches(ctx).EachError(func(_ string, _ int32, err error) {
				if kafkax.IsSecurity(err) {
					got = err
				}
			})
		}
		if !errors.Is(c.Explain(got), kafkax.ErrAuthorization) {
			t.Errorf("consumer poll: got %v, want a topic authorization error", got)
		}
	})
}
