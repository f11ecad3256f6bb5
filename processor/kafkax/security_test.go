package kafkax

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"

	"github.com/arrears/arrears/tlsconf"
)

// TestSecurityValidate: every bad kafka.tls / kafka.sasl combination is
// refused naming its field; good ones pass.
func TestSecurityValidate(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	scram := SASL{Mechanism: MechanismScramSHA512, Username: "processor", Password: "pw"}
	for name, tc := range map[string]struct {
		tls   tlsconf.Config
		sasl  SASL
		field string // "" = valid
	}{
		"plaintext":            {},
		"tls system roots":     {tls: tlsconf.Config{Enabled: true}},
		"scram over tls":       {tls: tlsconf.Config{Enabled: true}, sasl: scram},
		"plain":                {sasl: SASL{Mechanism: MechanismPlain, Username: "u", Password: "p"}},
		"unknown mechanism":    {sasl: SASL{Mechanism: "GSSAPI", Username: "u", Password: "p"}, field: "kafka.sasl.mechanism"},
		"lower-case mechanism": {sasl: SASL{Mechanism: "scram-sha-512", Username: "u", Password: "p"}, field: "kafka.sasl.mechanism"},
		"no password":          {sasl: SASL{Mechanism: MechanismScramSHA256, Username: "u"}, field: "kafka.sasl.password"},
		"no username":          {sasl: SASL{Mechanism: MechanismScramSHA256, Password: "p"}, field: "kafka.sasl.username"},
		"user without mech":    {sasl: SASL{Username: "u", Password: "p"}, field: "kafka.sasl.mechanism"},
		"cert without key":     {tls: tlsconf.Config{Enabled: true, CertFile: notPEM}, field: "kafka.tls.cert_file and kafka.tls.key_file"},
		"missing ca":           {tls: tlsconf.Config{Enabled: true, CAFile: filepath.Join(dir, "nope.pem")}, field: "kafka.tls.ca_file"},
		"ca not pem":           {tls: tlsconf.Config{Enabled: true, CAFile: notPEM}, field: "kafka.tls ca_file"},
		"bad key pair":         {tls: tlsconf.Config{Enabled: true, CertFile: notPEM, KeyFile: notPEM}, field: "kafka.tls cert_file"},
		"tls fields while off": {tls: tlsconf.Config{CAFile: notPEM}, field: "kafka.tls.enabled"},
	} {
		c := Defaults()
		c.TLS, c.SASL = tc.tls, tc.sasl
		err := c.Validate()
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case tc.field != "" && (err == nil || !strings.Contains(err.Error(), tc.field)):
			t.Errorf("%s: got %v, want an error naming %s", name, err, tc.field)
		case err != nil && strings.Contains(err.Error(), "not a certificate"):
			t.Errorf("%s: the error quotes a file's contents: %v", name, err)
		}
	}
}

// TestClientOptsSecurity: the SASL mechanism and TLS reach the client.
func TestClientOptsSecurity(t *testing.T) {
	for _, mech := range []string{MechanismPlain, MechanismScramSHA256, MechanismScramSHA512} {
		c := Defaults()
		c.TLS = tlsconf.Config{Enabled: true, ServerName: "kafka.example"}
		c.SASL = SASL{Mechanism: mech, Username: "u", Password: "p"}
		cl, err := kgo.NewClient(c.ClientOpts()...)
		if err != nil {
			t.Fatal(err)
		}
		mechs, _ := cl.OptValue(kgo.SASL).([]sasl.Mechanism)
		tlsCfg := fmt.Sprint(cl.OptValue(kgo.DialTLSConfig))
		cl.Close()
		if len(mechs) != 1 || mechs[0].Name() != mech {
			t.Errorf("%s: client SASL mechanisms %v", mech, mechs)
		}
		if !strings.Contains(tlsCfg, "kafka.example") {
			t.Errorf("%s: client TLS config lacks the server name: %s", mech, tlsCfg)
		}
	}
	cl, err := kgo.NewClient(Defaults().ClientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if v := fmt.Sprint(cl.OptValue(kgo.DialTLSConfig)); v != "<nil>" {
		t.Errorf("default config dials TLS: %s", v)
	}
}

// TestPasswordNeverPrinted: fmt and slog of a Config leave the password out.
func TestPasswordNeverPrinted(t *testing.T) {
	c := Defaults()
	c.SASL = SASL{Mechanism: MechanismScramSHA512, Username: "processor", Password: "hunter2-secret"}
	var b strings.Builder
	slog.New(slog.NewJSONHandler(&b, nil)).Info("config", "kafka", c, "sasl", c.SASL)
	for what, s := range map[string]string{"%v": fmt.Sprintf("%v", c), "%+v": fmt.Sprintf("%+v", c), "slog": b.String(),
		"explain": c.Explain(kerr.SaslAuthenticationFailed).Error()} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("%s prints the password: %s", what, s)
		}
		if what != "explain" && !strings.Contains(s, "processor") {
			t.Errorf("%s lost the user: %s", what, s)
		}
	}
}

// TestExplain: each security failure maps to its sentinel and names kafka
// and the cause; other errors pass through.
func TestExplain(t *testing.T) {
	c := Defaults()
	c.SASL = SASL{Mechanism: MechanismScramSHA512, Username: "sink", Password: "p"}
	for raw, want := range map[error]error{
		kerr.SaslAuthenticationFailed: ErrAuthentication, kerr.UnsupportedSaslMechanism: ErrAuthentication,
		kerr.TopicAuthorizationFailed: ErrAuthorization, kerr.GroupAuthorizationFailed: ErrAuthorization,
		kerr.TransactionalIDAuthorizationFailed: ErrAuthorization,
	} {
		err := c.Explain(fmt.Errorf("poll: %w", raw))
		if !errors.Is(err, want) || !errors.Is(err, raw) || !strings.HasPrefix(err.Error(), "kafka: ") {
			t.Errorf("%v: got %v, want %v wrapping it", raw, err, want)
		}
		if again := c.Explain(err); again != err {
			t.Errorf("explaining twice changed %v into %v", err, again)
		}
	}
	plain := errors.New("broker down")
	if c.Explain(plain) != plain || IsSecurity(plain) {
		t.Error("a non-security error was explained")
	}
}

// TestACLCommands: the printed kafka-acls.sh commands grant each role what
// ACLs lists, with the configured names.
func TestACLCommands(t *testing.T) {
	c := Defaults()
	c.Topics.ExtraInputs = []string{"ar.payments"}
	r := Roles{Processor: "proc", Sink: "snk", Serve: "api", ProcessorGroup: "pg", SinkGroup: "sg", TxnPrefix: "arrears-"}
	var cmds []string
	for _, a := range ACLs(c, r) {
		cmds = append(cmds, a.Command("b:9093", "admin.properties"))
	}
	all := strings.Join(cmds, "\n")
	for _, want := range []string{
		"--allow-principal User:proc --operation Read --topic ar.events --topic ar.payments --topic ar.account.status --topic ar.policies --group pg",
		"--topic ar.events.accepted --topic ar.policies --topic ar.internal.group-changelog --group sg",
		"--allow-principal User:proc --operation Write --resource-pattern-type prefixed --transactional-id arrears-",
		// the group stage: its topics and the group events on ar.events
		"--allow-principal User:proc --operation Write --topic ar.internal.group-contributions --topic ar.internal.group-changelog --topic ar.events",
		"--allow-principal User:snk --operation Read --topic ar.dunning.actions",
		"--group sg",
		"--allow-principal User:snk --operation Write --topic ar.dlq",
		"--allow-principal User:api --operation Write --topic ar.events",
		"--allow-principal User:api --operation Read --topic ar.policies",
		"--allow-principal User:api --operation Describe --topic ar.internal.group-contributions",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("commands lack %q:\n%s", want, all)
		}
	}
	for _, cmd := range cmds {
		if !strings.HasPrefix(cmd, "kafka-acls.sh --bootstrap-server b:9093 --command-config admin.properties --add ") {
			t.Errorf("command %q", cmd)
		}
		if strings.Contains(cmd, "User:api") && strings.Contains(cmd, "Read") && !strings.HasSuffix(cmd, "--operation Read --topic ar.policies") {
			t.Errorf("serve may read only the policy versions: %s", cmd)
		}
	}
}
