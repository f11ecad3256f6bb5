package schemas

import (
	"embed"
	"fmt"
	"io/fs"
)

// Previous versions of the owned schemas (history/<file>.<n>.avsc, the
// file as it was before change n+1). Single-object records carry only
// their writer's fingerprint, so records written before an append-only
// change (ar.events in flight, the compacted ar.account.status changelog)
// would otherwise turn unknown: each previous version resolves by its
// fingerprint and decodes through goavro, fields read by name, the fields
// added since taking their defaults. Add the old text here whenever an
// .avsc changes.
//
//go:embed history/*.avsc
var historyFS embed.FS

var historicSchemas = func() []*schema {
	names, _ := fs.Glob(historyFS, "history/*.avsc")
	out := make([]*schema, 0, len(names))
	for _, n := range names {
		text, err := historyFS.ReadFile(n)
		if err == nil {
			var s *schema
			if s, err = parseSchema(string(text)); err == nil {
				out = append(out, s.asWriter())
				continue
			}
		}
		// Embedded at build time and covered by TestPreviousSchemasDecode.
		panic(fmt.Sprintf("schemas: embedded %s: %v", n, err))
	}
	return out
}()
