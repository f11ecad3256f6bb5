package schemas

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/arrears/arrears/processor/policy"
)

// PolicySchema is the full name of the ar.policies value schema
// (policy_record.avsc). It is not one of Names(): the topic is arrears'
// own (written by `arrears policy apply`, read by every processor and the
// sink), always single-object encoded, never registered.
const PolicySchema = "arrears.PolicyRecord"

var policyCodec = sync.OnceValues(func() (*schema, error) {
	b, err := avscFS.ReadFile("policy_record.avsc")
	if err != nil {
		return nil, err
	}
	s, err := parseSchema(string(b))
	if err != nil {
		return nil, fmt.Errorf("policy_record.avsc: %w", err)
	}
	return s, nil
})

// EncodePolicy encodes a policy record (single-object encoding).
func EncodePolicy(r policy.Record) ([]byte, error) {
	s, err := policyCodec()
	if err != nil {
		return nil, err
	}
	prev := make([]any, 0, len(r.Previous))
	for _, p := range r.Previous {
		prev = append(prev, map[string]any{"version": p.Version, "effective_from": p.EffectiveFrom.UTC(),
			"applied_at": p.AppliedAt.UTC(), "yaml": string(p.YAML)})
	}
	native := map[string]any{"name": r.Name, "version": r.Version, "effective_from": r.EffectiveFrom.UTC(),
		"applied_at": r.AppliedAt.UTC(), "yaml": string(r.YAML), "previous": prev}
	out := append([]byte{0xC3, 0x01}, binary.LittleEndian.AppendUint64(nil, s.fp)...)
	out, err = s.codec.BinaryFromNative(out, native)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %v", ErrEncode, PolicySchema, err)
	}
	return out, nil
}

// DecodePolicy decodes a policy record written by EncodePolicy.
func DecodePolicy(b []byte) (policy.Record, error) {
	s, err := policyCodec()
	if err != nil {
		return policy.Record{}, err
	}
	if len(b) < 10 || !bytes.Equal(b[:2], []byte{0xC3, 0x01}) || binary.LittleEndian.Uint64(b[2:10]) != s.fp {
		return policy.Record{}, fmt.Errorf("%s: not a single-object record of this schema", PolicySchema)
	}
	v, rest, err := s.codec.NativeFromBinary(b[10:])
	if err != nil {
		return policy.Record{}, fmt.Errorf("%s: %w", PolicySchema, err)
	}
	if len(rest) > 0 {
		return policy.Record{}, fmt.Errorf("%s: %d trailing bytes", PolicySchema, len(rest))
	}
	m := v.(map[string]any)
	r := policyVersion(m)
	r.Name, _ = m["name"].(string)
	prev, _ := m["previous"].([]any)
	for _, p := range prev {
		pv := policyVersion(p.(map[string]any))
		pv.Name = r.Name
		r.Previous = append(r.Previous, pv)
	}
	return r, nil
}

func policyVersion(m map[string]any) policy.Record {
	var r policy.Record
	r.Version, _ = m["version"].(string)
	r.EffectiveFrom, _ = m["effective_from"].(time.Time)
	r.AppliedAt, _ = m["applied_at"].(time.Time)
	y, _ := m["yaml"].(string)
	r.YAML = []byte(y)
	r.EffectiveFrom, r.AppliedAt = r.EffectiveFrom.UTC(), r.AppliedAt.UTC()
	return r
}
