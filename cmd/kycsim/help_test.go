package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestHelpTexts checks what -help prints: no "Flags:" heading over no
// flags, validate's usage line says --asyncapi can stand for --product, and
// the flags send and load share are described alike.
func TestHelpTexts(t *testing.T) {
	if code, _, errs := run(t, "", "version", "--help"); code != 0 || strings.Contains(errs, "Flags:") || !strings.Contains(errs, "Usage: kycsim version") {
		t.Errorf("version --help: exit %d\n%s", code, errs)
	}
	_, _, errs := run(t, "", "validate", "--help")
	if !strings.Contains(errs, "--asyncapi FILE [--product P]") {
		t.Errorf("validate --help does not say --asyncapi stands for --product:\n%s", errs)
	}
	flagHelp := func(cmd, name string) string {
		_, _, errs := run(t, "", cmd, "--help")
		m := regexp.MustCompile(`(?m)^  -` + name + `\b.*\n\s+(.*)$`).FindStringSubmatch(errs)
		if m == nil {
			t.Fatalf("%s --help has no -%s:\n%s", cmd, name, errs)
		}
		return m[1]
	}
	for _, name := range []string{"sandbox-mode", "precision"} {
		if s, l := flagHelp("send", name), flagHelp("load", name); s != l {
			t.Errorf("-%s: send says %q, load says %q", name, s, l)
		}
	}
}

// TestConformListArticles checks the case descriptions read as English:
// "an EXPIRED callback", never "a EXPIRED".
func TestConformListArticles(t *testing.T) {
	_, out, _ := run(t, "", "conform", "--list")
	if m := regexp.MustCompile(`\bA [AEIOU][A-Z_]+\b`).FindAllString(out, -1); len(m) > 0 {
		t.Errorf("conform --list: %q: want \"An\" before a vowel", m)
	}
}
