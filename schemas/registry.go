package schemas

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
)

// schemaByID resolves a Confluent schema id: cached ids first (KnownIDs,
// earlier fetches, ids this codec registered), then the registry. Concurrent
// misses for one id share a single request.
func (c *Codec) schemaByID(ctx context.Context, id int) (*schema, error) {
	for {
		c.mu.RLock()
		s, ok := c.byID[id]
		c.mu.RUnlock()
		if ok {
			return s, nil
		}
		if c.reg == nil {
			return nil, &UnknownSchemaError{ID: id}
		}
		c.mu.Lock()
		if s, ok := c.byID[id]; ok {
			c.mu.Unlock()
			return s, nil
		}
		if at, ok := c.unknown[id]; ok && time.Since(at) < c.cfg.UnknownIDTTL {
			c.mu.Unlock()
			return nil, &UnknownSchemaError{ID: id}
		}
		if wait, ok := c.fetching[id]; ok {
			c.mu.Unlock()
			select {
			case <-wait:
				continue // look again: fetched, unknown, or failed
			case <-ctx.Done():
				return nil, fmt.Errorf("%w: schema id %d: %v", ErrRegistry, id, ctx.Err())
			}
		}
		done := make(chan struct{})
		c.fetching[id] = done
		c.mu.Unlock()

		s, err := c.fetch(ctx, id)

		c.mu.Lock()
		delete(c.fetching, id)
		switch {
		case err == nil:
			c.remember(id, s)
			delete(c.unknown, id)
		case errors.Is(err, ErrUnknownSchema):
			c.forgetUnknown()
			c.unknown[id] = time.Now()
		}
		c.mu.Unlock()
		close(done)
		return s, err
	}
}

// remember caches a fetched id, forgetting the oldest fetched one beyond
// MaxSchemaIDs. Called with c.mu held.
func (c *Codec) remember(id int, s *schema) {
	if len(c.fetched) >= c.cfg.MaxSchemaIDs {
		delete(c.byID, c.fetched[0])
		c.fetched = append(c.fetched[:0], c.fetched[1:]...)
	}
	c.byID[id] = s
	c.fetched = append(c.fetched, id)
}

// forgetUnknown makes room for one more unknown id: expired entries go
// first, then an arbitrary one. Called with c.mu held.
func (c *Codec) forgetUnknown() {
	if len(c.unknown) < c.cfg.MaxSchemaIDs {
		return
	}
	for id, at := range c.unknown {
		if time.Since(at) >= c.cfg.UnknownIDTTL {
			delete(c.unknown, id)
		}
	}
	for id := range c.unknown {
		if len(c.unknown) < c.cfg.MaxSchemaIDs {
			break
		}
		delete(c.unknown, id)
	}
}

// cachedText returns a cached schema with exactly this text, so ids that
// name one schema share its codec and resolution.
func (c *Codec) cachedText(text string) *schema {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, s := range c.byID {
		if s.text == text {
			return s
		}
	}
	return nil
}

// fetch asks the registry for schema id.
func (c *Codec) fetch(ctx context.Context, id int) (*schema, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RegistryTimeout)
	defer cancel()
	got, err := c.reg.SchemaByID(ctx, id)
	if err != nil {
		if notFound(err) {
			return nil, &UnknownSchemaError{ID: id}
		}
		return nil, fmt.Errorf("%w: fetch schema id %d: %v", ErrRegistry, id, err)
	}
	if got.Type != sr.TypeAvro {
		return nil, fmt.Errorf("%w: schema id %d is %s, not AVRO", ErrWrongSchema, id, got.Type)
	}
	if len(got.References) > 0 {
		return nil, fmt.Errorf("%w: schema id %d uses references, which arrears does not support", ErrWrongSchema, id)
	}
	if s := c.cachedText(got.Schema); s != nil {
		return s, nil
	}
	s, err := resolveKnown(got.Schema)
	if err != nil {
		return nil, fmt.Errorf("%w: schema id %d: %v", ErrWrongSchema, id, err)
	}
	return s, nil
}

// subjectID returns the id of owned schema s under "<topic>-value",
// registering it unless DisableAutoRegister. The id is cached, and also
// remembered for decoding so our own output never needs a fetch.
func (c *Codec) subjectID(ctx context.Context, topic string, s *schema) (int, error) {
	key := subjectKey{subject: topic + "-value", record: s.name}
	c.mu.RLock()
	id, ok := c.subjects[key]
	c.mu.RUnlock()
	if ok {
		return id, nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RegistryTimeout)
	defer cancel()
	want := sr.Schema{Schema: s.text, Type: sr.TypeAvro}
	var err error
	if c.cfg.DisableAutoRegister {
		var ss sr.SubjectSchema
		ss, err = c.reg.LookupSchema(ctx, key.subject, want)
		id = ss.ID
		if err != nil && notFound(err) {
			return 0, &UnknownSchemaError{Subject: key.subject}
		}
	} else {
		id, err = c.reg.RegisterSchema(ctx, key.subject, want, -1, -1)
	}
	if err != nil {
		return 0, fmt.Errorf("%w: subject %s: %v", ErrRegistry, key.subject, err)
	}
	c.mu.Lock()
	c.subjects[key] = id
	if _, ok := c.byID[id]; !ok {
		c.byID[id] = s
	}
	c.mu.Unlock()
	return id, nil
}

// notFound reports a registry 404 (schema, subject or version not found).
func notFound(err error) bool {
	var re *sr.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusNotFound
}
