package policy

import (
	"fmt"
	"io/fs"
	"sort"
)

// LoadFS loads every *.yaml file at the top of fsys into a validated Set
// (the caller opens the directory, e.g. with os.DirFS, so this package stays
// free of os). Files are read in name order; errors name file and line.
func LoadFS(fsys fs.FS) (*Set, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no *.yaml policies found")
	}
	sort.Strings(names)
	files := make([]File, 0, len(names))
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Name: n, Data: b})
	}
	return LoadSet(files)
}
