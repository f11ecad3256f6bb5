package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/arrears/arrears/cmd/arrears/api"
	"github.com/arrears/arrears/cmd/arrears/config"
)

// cmdAPI: `arrears api token|probe`.
//
//	api token --name N --role R [--queues a,b] [--append]: a new bearer
//	  token (printed once) and its tokens-file line (only the SHA-256);
//	  --append adds the line to api.tokens_file.
//	api probe [-n 200] [-account ID] [-url URL]: n notes written with
//	  ?wait=10s through a running serve (token in ARREARS_API_TOKEN), the
//	  round trip API -> Kafka -> processor -> Redis -> API timed; prints
//	  p50, p90, p99 and max.
func cmdAPI(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: arrears api token|probe [flags]", errUsage)
	}
	switch args[0] {
	case "token":
		return apiToken(args[1:])
	case "probe":
		return apiProbe(ctx, args[1:])
	}
	return fmt.Errorf("%w: arrears api token|probe [flags]", errUsage)
}

func apiToken(args []string) error {
	fs := flag.NewFlagSet("api token", flag.ContinueOnError)
	name := fs.String("name", "", "the token's name: the actor of its events and audit rows")
	role := fs.String("role", "", "viewer, collector, supervisor or admin")
	queues := fs.String("queues", "", "comma-separated queues a collector works")
	appendTo := fs.Bool("append", false, "append the line to api.tokens_file")
	cfg, err := config.Load(fs, args)
	if err != nil {
		return err
	}
	r, err := api.ParseRole(*role)
	if err != nil {
		return fmt.Errorf("--role: %w", err)
	}
	var qs []string
	for _, q := range strings.Split(*queues, ",") {
		if q = strings.TrimSpace(q); q != "" {
			qs = append(qs, q)
		}
	}
	tok, e, err := api.NewToken(*name, r, qs)
	if err != nil {
		return err
	}
	if *appendTo {
		if cfg.API.TokensFile == "" {
			return errors.New("--append: api.tokens_file is not set")
		}
		f, err := os.OpenFile(cfg.API.TokensFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("api.tokens_file: %w", err)
		}
		_, werr := fmt.Fprintln(f, e.Line())
		if err := errors.Join(werr, f.Close()); err != nil {
			return fmt.Errorf("api.tokens_file: %w", err)
		}
	}
	fmt.Printf("token: %s\ntokens file line: %s\n", tok, e.Line())
	return nil
}

func apiProbe(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("api probe", flag.ContinueOnError)
	n := fs.Int("n", 200, "writes to time")
	acct := fs.String("account", "", "account to write notes on (default: the first the search returns)")
	base := fs.String("url", "", "API base URL (default: http(s)://http.listen/api/v1)")
	cfg, err := config.Load(fs, args)
	if err != nil {
		return err
	}
	p := prober{tok: os.Getenv("ARREARS_API_TOKEN"), base: *base, cl: &http.Client{Timeout: 40 * time.Second}}
	if p.tok == "" {
		return errors.New("ARREARS_API_TOKEN: set it to a collector's (or higher) token")
	}
	if p.base == "" {
		p.base = cfg.HTTP.Scheme() + "://" + cfg.HTTP.Listen + api.Prefix
	}
	if *acct == "" {
		code, b, _, err := p.call(ctx, http.MethodGet, "/accounts?limit=1", nil)
		var page struct {
			Items []struct {
				AccountID string `json:"account_id"`
			} `json:"items"`
		}
		if err != nil || code != http.StatusOK || json.Unmarshal(b, &page) != nil || len(page.Items) == 0 {
			return fmt.Errorf("no account to probe (status %d, %v): pass -account", code, err)
		}
		*acct = page.Items[0].AccountID
	}
	var took []time.Duration
	pending := 0
	for i := 0; i < *n; i++ {
		code, b, d, err := p.call(ctx, http.MethodPost, "/accounts/"+url.PathEscape(*acct)+"/notes?wait=10s", map[string]string{"text": fmt.Sprintf("probe %d", i)})
		if err != nil {
			return fmt.Errorf("probe write %d: %w", i, err)
		}
		switch code {
		case http.StatusOK:
			took = append(took, d)
		case http.StatusAccepted:
			pending++
		default:
			return fmt.Errorf("probe write %d: status %d: %s", i, code, b)
		}
	}
	if len(took) == 0 {
		return fmt.Errorf("none of %d writes was applied within 10s (is the processor running?)", *n)
	}
	slices.Sort(took)
	q := func(p float64) time.Duration {
		return took[min(len(took)-1, int(p*float64(len(took))))].Round(10 * time.Microsecond)
	}
	fmt.Printf("api probe: %d writes with ?wait (note on one account), %d applied, %d pending after 10s\n", *n, len(took), pending)
	fmt.Printf("write -> Kafka -> processor -> Redis -> API: p50 %s  p90 %s  p99 %s  max %s\n", q(0.50), q(0.90), q(0.99), took[len(took)-1].Round(10*time.Microsecond))
	return nil
}

// prober sends the probe's requests.
type prober struct {
	tok, base string
	cl        *http.Client
}

// call sends one request (a new Idempotency-Key each) and times it; over
// the token's rate (429) it waits Retry-After and sends it again, the wait
// not counted.
func (p prober) call(ctx context.Context, method, path string, body any) (int, []byte, time.Duration, error) {
	for {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(ctx, method, p.base+path, rd)
		if err != nil {
			return 0, nil, 0, err
		}
		req.Header.Set("Authorization", "Bearer "+p.tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("probe-%d", time.Now().UnixNano()))
		start := time.Now()
		resp, err := p.cl.Do(req)
		if err != nil {
			return 0, nil, 0, err
		}
		b, err := io.ReadAll(resp.Body)
		d := time.Since(start)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests {
			return resp.StatusCode, b, d, err
		}
		wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		select {
		case <-ctx.Done():
			return 0, nil, 0, ctx.Err()
		case <-time.After(time.Duration(max(wait, 1)) * time.Second):
		}
	}
}
