package main

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionCommand(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		code, out, errOut := run(t, "", args...)
		if code != 0 || errOut != "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
		lines := strings.Split(out, "\n")
		if len(lines) < 2 || lines[0] != "kycsim "+Version() || !strings.HasPrefix(lines[1], "go: go") {
			t.Errorf("%v:\n%s", args, out)
		}
	}
	if code, _, errOut := run(t, "", "version", "extra"); code != 2 || !strings.Contains(errOut, "no arguments") {
		t.Errorf("version extra: exit %d, %q", code, errOut)
	}
	if _, out, _ := run(t, "", "help"); !strings.Contains(out, "\n  version ") {
		t.Errorf("help does not list version:\n%s", out)
	}
	if Version() == "" {
		t.Error("empty Version")
	}
}

func TestVersionFromBuildInfo(t *testing.T) {
	settings := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	const rev = "0123456789abcdef0123456789abcdef01234567"
	for _, tt := range []struct {
		name  string
		bi    *debug.BuildInfo
		ok    bool
		short string
		out   string
	}{
		{"no build info", nil, false, "(devel)", "kycsim (devel)\ngo: " + runtime.Version() + "\n"},
		{"devel, no vcs", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Path: "github.com/kycsim/kycsim"}}, true,
			"(devel)", "kycsim (devel)\ngo: go1.26.1\nmodule: github.com/kycsim/kycsim (devel)\n"},
		{"devel, modified checkout", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Path: "github.com/kycsim/kycsim", Version: "(devel)"},
			Settings: settings("vcs", "git", "vcs.revision", rev, "vcs.time", "2026-11-22T09:00:00Z", "vcs.modified", "true")}, true,
			"(devel) (rev 0123456789ab, modified)",
			"kycsim (devel) (rev 0123456789ab, modified)\ngo: go1.26.1\nmodule: github.com/kycsim/kycsim (devel)\n" +
				"vcs.revision: " + rev + "\nvcs.time: 2026-11-22T09:00:00Z\nvcs.modified: true\n"},
		{"tagged release", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Path: "github.com/kycsim/kycsim", Version: "v1.4.0"},
			Settings: settings("vcs.revision", rev, "vcs.modified", "false")}, true,
			"v1.4.0 (rev 0123456789ab)",
			"kycsim v1.4.0 (rev 0123456789ab)\ngo: go1.26.1\nmodule: github.com/kycsim/kycsim v1.4.0\nvcs.revision: " + rev + "\nvcs.modified: false\n"},
		{"pseudo-version with the revision", &debug.BuildInfo{GoVersion: "go1.26.1",
			Main:     debug.Module{Path: "github.com/kycsim/kycsim", Version: "v0.0.0-20261122090000-0123456789ab+dirty"},
			Settings: settings("vcs.revision", rev, "vcs.modified", "true")}, true,
			"v0.0.0-20261122090000-0123456789ab+dirty", ""},
	} {
		b := readBuildInfo(tt.bi, tt.ok)
		if got := b.String(); got != tt.short {
			t.Errorf("%s: version %q, want %q", tt.name, got, tt.short)
		}
		if tt.out == "" {
			continue
		}
		var out strings.Builder
		(&Main{Stdout: &out}).printVersion(b)
		if out.String() != tt.out {
			t.Errorf("%s: printed\n%s\nwant\n%s", tt.name, out.String(), tt.out)
		}
	}
}
