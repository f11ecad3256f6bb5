package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

// Role is what a token may do; each role may do everything the roles
// below it may (viewer < collector < supervisor < admin).
type Role uint8

// The roles, lowest first. RoleNone is an unauthenticated caller.
const (
	RoleNone Role = iota
	RoleViewer
	RoleCollector
	RoleSupervisor
	RoleAdmin
)

var roleNames = [...]string{"none", "viewer", "collector", "supervisor", "admin"}

func (r Role) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return "none"
}

// ParseRole reads a role name.
func ParseRole(s string) (Role, error) {
	for i, n := range roleNames[1:] {
		if s == n {
			return Role(i + 1), nil
		}
	}
	return RoleNone, fmt.Errorf("role %q is not viewer, collector, supervisor or admin", s)
}

// Principal is the authenticated caller: the token's name (the actor of
// its events and audit rows), role and queues.
type Principal struct {
	Name   string   `json:"name"`
	Role   string   `json:"role"`
	Queues []string `json:"queues"`
	role   Role
}

// AtLeast reports whether the principal's role is min or above.
func (p Principal) AtLeast(min Role) bool { return p.role >= min }

// InQueue reports whether the principal works queue q: supervisors and
// admins work every queue, collectors and viewers the ones their token
// lists.
func (p Principal) InQueue(q string) bool {
	return p.role >= RoleSupervisor || slices.Contains(p.Queues, q)
}

// TokenEntry is one line of the tokens file. The token itself is never
// stored: only its SHA-256, hex.
type TokenEntry struct {
	Name   string   `yaml:"name"`
	Role   string   `yaml:"role"`
	Queues []string `yaml:"queues,omitempty"`
	SHA256 string   `yaml:"sha256"`
}

// tokenSet is the loaded tokens file.
type tokenSet struct {
	entries []TokenEntry
	hashes  [][]byte
	roles   []Role
}

var actorName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// LoadTokens reads and checks a tokens file (a YAML list of TokenEntry).
func LoadTokens(path string) (*tokenSet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: api.tokens_file: %w", ErrConfig, err)
	}
	var es []TokenEntry
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&es); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: api.tokens_file %s: %w", ErrConfig, path, err)
	}
	ts := &tokenSet{}
	names := map[string]bool{}
	var errs []error
	for i, e := range es {
		at := fmt.Sprintf("api.tokens_file %s: entry %d", path, i+1)
		r, err := ParseRole(e.Role)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: role: %w", at, err))
		}
		if !actorName.MatchString(e.Name) {
			errs = append(errs, fmt.Errorf("%s: name %q: want 1-64 of a-z 0-9 . _ -", at, e.Name))
		} else if names[e.Name] {
			errs = append(errs, fmt.Errorf("%s: name %q used twice", at, e.Name))
		}
		names[e.Name] = true
		h, err := hex.DecodeString(e.SHA256)
		if err != nil || len(h) != sha256.Size {
			errs = append(errs, fmt.Errorf("%s: sha256: want 64 hex digits", at))
		}
		ts.entries, ts.hashes, ts.roles = append(ts.entries, e), append(ts.hashes, h), append(ts.roles, r)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return ts, nil
}

// lookup finds the entry of a presented token. Every stored hash is
// compared, in constant time, whatever matches: the time taken says
// nothing about which entry (or how much of a hash) matched.
func (ts *tokenSet) lookup(token string) (Principal, bool) {
	sum := sha256.Sum256([]byte(token))
	found := -1
	for i, h := range ts.hashes {
		if subtle.ConstantTimeCompare(sum[:], h) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Principal{}, false
	}
	e := ts.entries[found]
	q := e.Queues
	if q == nil {
		q = []string{}
	}
	return Principal{Name: e.Name, Role: e.Role, Queues: q, role: ts.roles[found]}, true
}

// NewToken makes a random token (32 bytes from crypto/rand, base64url, with
// an "arr_" prefix so that secret scanners can spot one) and its entry.
func NewToken(name string, role Role, queues []string) (string, TokenEntry, error) {
	if !actorName.MatchString(name) {
		return "", TokenEntry{}, fmt.Errorf("--name %q: want 1-64 of a-z 0-9 . _ -", name)
	}
	if role == RoleNone {
		return "", TokenEntry{}, errors.New("--role: viewer, collector, supervisor or admin")
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", TokenEntry{}, fmt.Errorf("random token: %w", err)
	}
	tok := "arr_" + base64.RawURLEncoding.EncodeToString(raw[:])
	sum := sha256.Sum256([]byte(tok))
	return tok, TokenEntry{Name: name, Role: role.String(), Queues: queues, SHA256: hex.EncodeToString(sum[:])}, nil
}

// Line is the entry as one YAML list line of the tokens file.
func (e TokenEntry) Line() string {
	q := make([]string, len(e.Queues))
	for i, s := range e.Queues {
		q[i] = fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("- {name: %q, role: %s, queues: [%s], sha256: %s}", e.Name, e.Role, strings.Join(q, ", "), e.SHA256)
}

// tokenFile is the loaded tokens file, loaded again when it changes
// (size or modification time, looked at most once a second): a line
// deleted revokes its token without a restart. A file that no longer loads
// keeps the tokens it had (logged at Error) until it is fixed.
type tokenFile struct {
	path string
	log  func(err error)

	mu      sync.Mutex
	set     *tokenSet
	stat    os.FileInfo
	checked time.Time
}

func newTokenFile(path string, log func(error)) (*tokenFile, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: api.tokens_file: %w", ErrConfig, err)
	}
	set, err := LoadTokens(path)
	if err != nil {
		return nil, err
	}
	return &tokenFile{path: path, log: log, set: set, stat: st, checked: time.Now()}, nil
}

// current is the token set, reloaded first if the file changed.
func (f *tokenFile) current() *tokenSet {
	f.mu.Lock()
	defer f.mu.Unlock()
	if time.Since(f.checked) < time.Second {
		return f.set
	}
	f.checked = time.Now()
	st, err := os.Stat(f.path)
	if err != nil || st.Size() == f.stat.Size() && st.ModTime().Equal(f.stat.ModTime()) {
		return f.set
	}
	set, err := LoadTokens(f.path)
	if err != nil {
		f.log(err)
		return f.set
	}
	f.set, f.stat = set, st
	return f.set
}

type principalKey struct{}

// principalOf is the request's authenticated caller (zero before auth).
func principalOf(r *http.Request) Principal {
	p, _ := r.Context().Value(principalKey{}).(Principal)
	return p
}

func withPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// authenticate answers 401 unless the request carries a known bearer
// token, and puts its Principal in the request's context.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		scheme, tok, ok := strings.Cut(h, " ")
		if h == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="arrears"`)
			writeProblem(w, r, http.StatusUnauthorized, "Authentication required", "send Authorization: Bearer <token>")
			return
		}
		p, found := Principal{}, false
		if ok && strings.EqualFold(scheme, "Bearer") {
			p, found = s.tokens.current().lookup(strings.TrimSpace(tok))
		}
		if !found {
			w.Header().Set("WWW-Authenticate", `Bearer realm="arrears", error="invalid_token"`)
			writeProblem(w, r, http.StatusUnauthorized, "Invalid token", "the bearer token is not known")
			return
		}
		next.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), p)))
	})
}

// require answers 403 unless the authenticated caller has min or above.
func require(min Role, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !principalOf(r).AtLeast(min) {
			writeProblem(w, r, http.StatusForbidden, "Forbidden", "this needs the "+min.String()+" role or above")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// RequireRole wraps h so that only a caller with a valid token of role
// min or above reaches it (401 without a token, 403 below min); other
// routes of `arrears serve` (pprof) use it to share the API's tokens.
func (s *Server) RequireRole(min Role, h http.Handler) http.Handler {
	return s.withRequestID(s.authenticate(s.rateLimit(require(min, h))))
}
