package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// develVersion is the version of a build that has no module version (go
// run, go build in a checkout without a tag, tests).
const develVersion = "(devel)"

// buildInfo is what the binary knows about how it was built.
type buildInfo struct {
	version   string // the main module's version, or develVersion
	goVersion string
	module    string // the main module's path ("" when unknown)
	revision  string // vcs.revision ("" when unknown)
	time      string // vcs.time
	modified  bool   // vcs.modified
}

// readBuildInfo reads what debug.ReadBuildInfo returned, falling back to
// develVersion and the running Go version.
func readBuildInfo(bi *debug.BuildInfo, ok bool) buildInfo {
	b := buildInfo{version: develVersion, goVersion: runtime.Version()}
	if !ok || bi == nil {
		return b
	}
	if bi.Main.Version != "" {
		b.version = bi.Main.Version
	}
	if bi.GoVersion != "" {
		b.goVersion = bi.GoVersion
	}
	b.module = bi.Main.Path
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.revision = s.Value
		case "vcs.time":
			b.time = s.Value
		case "vcs.modified":
			b.modified = s.Value == "true"
		}
	}
	return b
}

// String is the version on one line: the module version, with the VCS
// revision (12 digits) and whether the tree was modified when the
// version does not already say it, as in "(devel) (rev 0123456789ab,
// modified)".
func (b buildInfo) String() string {
	rev := b.revision
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" || strings.Contains(b.version, rev) {
		return b.version
	}
	if b.modified {
		return fmt.Sprintf("%s (rev %s, modified)", b.version, rev)
	}
	return fmt.Sprintf("%s (rev %s)", b.version, rev)
}

// Version returns kycsim's version on one line, from the build
// information the Go toolchain stamped in the binary: the module version
// (or "(devel)"), and the VCS revision when the version does not carry
// it. Reports record it.
func Version() string {
	return readBuildInfo(debug.ReadBuildInfo()).String()
}

func (m *Main) runVersion(_ context.Context, args []string) error {
	fs := m.newFlagSet("version", "version")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("version takes no arguments")
	}
	m.printVersion(readBuildInfo(debug.ReadBuildInfo()))
	return nil
}

// printVersion prints "kycsim VERSION" and then what the build recorded,
// one "name: value" a line.
func (m *Main) printVersion(b buildInfo) {
	fmt.Fprintf(m.Stdout, "kycsim %s\n", b)
	fmt.Fprintf(m.Stdout, "go: %s\n", b.goVersion)
	if b.module != "" {
		fmt.Fprintf(m.Stdout, "module: %s %s\n", b.module, b.version)
	}
	if b.revision != "" {
		fmt.Fprintf(m.Stdout, "vcs.revision: %s\n", b.revision)
		if b.time != "" {
			fmt.Fprintf(m.Stdout, "vcs.time: %s\n", b.time)
		}
		fmt.Fprintf(m.Stdout, "vcs.modified: %t\n", b.modified)
	}
}
