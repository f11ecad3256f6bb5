package schemas

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr/srfake"
)

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:pass@host:8081/x":             "https://***@host:8081/x",
		"http://host:8081":                          "http://host:8081",
		"https://u:p@a:1, http://b:2,http://t@c/p@": "https://***@a:1, http://b:2,http://***@c/p@",
		"https://us@er:p@ss@host/":                  "https://***@host/",
		"https://u:p%zz@host":                       "https://***@host", // does not parse
		"":                                          "",
		"not a url u:p@x":                           "not a url u:p@x",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRegistryCredentialsNeverPrinted: a password given in the registry
// URL is sent as basic auth and appears in no error message, config
// validation message or log line.
func TestRegistryCredentialsNeverPrinted(t *testing.T) {
	const secret = "s3cr3t-pw"
	reg := srfake.New()
	defer reg.Close()
	var auth []string
	reg.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		u, p, _ := r.BasicAuth()
		auth = append(auth, u+":"+p)
		if strings.Contains(r.URL.String(), secret) {
			t.Errorf("request URL carries the password: %s", r.URL)
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	})
	withCreds := strings.Replace(reg.URL(), "://", "://reader:"+secret+"@", 1)
	cfg := Config{RegistryURL: withCreds}
	c := newCodec(t, cfg)
	ctx := context.Background()
	_, err := c.DecodeEvent(ctx, confluentFrame(77, []byte{0}))
	if !errors.Is(err, ErrRegistry) {
		t.Fatalf("registry down: %v", err)
	}
	if _, encErr := c.EncodeEvent(ctx, "ar.events", sampleEvents()["release"]); encErr == nil {
		t.Fatal("encode with registry down succeeded")
	} else {
		err = errors.Join(err, encErr)
	}
	// Unreachable registry: the client's own error text names the URL.
	down := newCodec(t, Config{RegistryURL: "http://reader:" + secret + "@127.0.0.1:1"})
	_, downErr := down.DecodeEvent(ctx, confluentFrame(5, []byte{0}))
	err = errors.Join(err, downErr, Config{RegistryURL: "ftp://reader:" + secret + "@h"}.Validate(),
		Config{RegistryURL: "http://reader:" + secret + "@h%zz"}.Validate())
	if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "reader:") {
		t.Errorf("an error prints the credentials: %v", err)
	}
	if len(auth) == 0 || auth[0] != "reader:"+secret {
		t.Errorf("basic auth sent %q", auth)
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "codec", cfg, "explicit", Config{RegistryURL: reg.URL(), RegistryUser: "u", RegistryPassword: secret})
	if strings.Contains(logs.String(), secret) || !strings.Contains(logs.String(), "***@") {
		t.Errorf("log line: %s", logs.String())
	}
	for _, bad := range []Config{
		{RegistryURL: withCreds, RegistryUser: "other"},
		{RegistryURL: "http://a:1@h1,http://b:2@h2"},
	} {
		if err := bad.Validate(); err == nil || strings.Contains(err.Error(), "@") {
			t.Errorf("Validate(%s): %v", RedactURL(bad.RegistryURL), err)
		}
	}
}
