package sandbox

import (
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Migration is one schema change of a store, numbered by its file name
// (NNNN_name.sql).
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations reads a store's migrations from dir/*.sql in fsys, in
// version order, and checks that the versions run 1, 2, 3 ... without a
// gap or a repeat.
func Migrations(fsys fs.FS, dir string) ([]Migration, error) {
	names, err := fs.Glob(fsys, dir+"/*.sql")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, name := range names {
		base := strings.TrimPrefix(name, dir+"/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: the name must start with a version number and _", base)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: base, SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s: want version %d", m.Name, i+1)
		}
	}
	return out, nil
}

// createTable finds the tables a migration creates.
var createTable = regexp.MustCompile(`(?i)\bCREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"?(\w+)`)

// TablesOf returns the tables a store's schema holds after the
// migrations: schema_version and those they create, sorted.
func TablesOf(ms []Migration) []string {
	out := []string{"schema_version"}
	for _, m := range ms {
		for _, sm := range createTable.FindAllStringSubmatch(m.SQL, -1) {
			out = append(out, sm[1])
		}
	}
	sort.Strings(out)
	return out
}
