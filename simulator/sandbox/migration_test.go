package sandbox_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kycsim/kycsim/simulator/sandbox"
)

func TestMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	ms, err := sandbox.Migrations(fstest.MapFS{
		"m/0002_b.sql": file("B"), "m/0001_a.sql": file("A"), "m/README": file("not a migration"),
	}, "m")
	if err != nil || len(ms) != 2 || ms[0].Name != "0001_a.sql" || ms[1].SQL != "B" || ms[1].Version != 2 {
		t.Fatalf("Migrations = %+v, %v; want 0001_a.sql then 0002_b.sql", ms, err)
	}
	for _, tt := range []struct {
		files fstest.MapFS
		want  string
	}{
		{fstest.MapFS{"m/0001_a.sql": file(""), "m/0003_c.sql": file("")}, "0003_c.sql: want version 2"},
		{fstest.MapFS{"m/0001_a.sql": file(""), "m/0001_b.sql": file("")}, "want version 2"},
		{fstest.MapFS{"m/a.sql": file("")}, "a.sql: the name must start with a version number"},
	} {
		if _, err := sandbox.Migrations(tt.files, "m"); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Migrations(%v) = %v, want an error with %q", tt.files, err, tt.want)
		}
	}
}
