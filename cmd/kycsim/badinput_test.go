package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// badInput is one command line that must be refused: the exit code and a
// fragment of what kycsim prints on standard error (the flag or place it
// names, and what is wrong).
type badInput struct {
	args []string
	code int
	frag string
}

// down is a receiver URL nothing listens on: a bad input must be refused
// before anything is sent, so nothing ever connects to it.
const down = "http://127.0.0.1:1/sumsub"

// badInputs is the sweep of bad inputs: flags, files, URLs, numbers and
// empty values, across every command. $TMP is replaced by a temporary
// directory holding the files listed in badInputFiles.
var badInputs = []badInput{
	// validate
	{[]string{"validate", "--product", "", "$TMP/empty.json"}, 2, "-product"},
	{[]string{"validate", "--product", "sumsub", "--message", "", "$TMP/empty.json"}, 2, "-message"},
	{[]string{"validate", "--product", "sumsub", "--level", "", "-"}, 2, "-level"},
	{[]string{"validate", "--product", "sumsub", "--level", "lax", "-"}, 2, "--level"},
	{[]string{"validate", "--product", "sumsub", "--format", "xml", "-"}, 2, "--format"},
	{[]string{"validate", "--product", "sumsub", "--format", "", "-"}, 2, "-format"},
	{[]string{"validate", "--product", "sumsub", "--content-type", "text/plain", "-"}, 2, "--content-type"},
	{[]string{"validate", "--product", "sumsub", "--content-type", "", "-"}, 2, "-content-type"},
	{[]string{"validate", "--product", "sumsub", "--asyncapi", "", "-"}, 2, "-asyncapi"},
	{[]string{"validate", "--product", "sumsub", "--asyncapi", "$TMP/missing.yaml", "-"}, 2, "--asyncapi"},
	{[]string{"validate", "--product", "sumsub", "--asyncapi", "$TMP", "-"}, 2, "--asyncapi"},
	{[]string{"validate", "--product", "sumsub", "$TMP/missing.json"}, 2, "missing.json"},
	{[]string{"validate", "--product", "sumsub", "$TMP"}, 2, "is a directory"},
	{[]string{"validate", "--product", "sumsub"}, 2, "no input"},
	{[]string{"validate", "--product", "onfido", "-"}, 2, `unknown product "onfido"`},
	{[]string{"validate", "--product", "sumsub", "--message", "applicantExploded", "-"}, 2, "applicantExploded"},
	{[]string{"validate", "--produkt", "sumsub"}, 2, "-produkt"},
	{[]string{"validate", "--http=maybe", "--product", "sumsub", "-"}, 2, "-http"},
	// spec
	{[]string{"spec"}, 2, "spec needs a subcommand"},
	{[]string{"spec", "lists"}, 2, "lists"},
	{[]string{"spec", "list", "extra"}, 2, "takes no arguments"},
	{[]string{"spec", "list", "--format", "yaml"}, 2, "--format"},
	{[]string{"spec", "list", "--format", ""}, 2, "-format"},
	{[]string{"spec", "list", "--level", "lax"}, 2, "--level"},
	{[]string{"spec", "list", "--asyncapi", "$TMP/missing.yaml"}, 2, "--asyncapi"},
	{[]string{"spec", "schema", "sumsub"}, 2, "PRODUCT and MESSAGE"},
	{[]string{"spec", "schema", "onfido", "x"}, 2, "onfido"},
	{[]string{"spec", "schema", "sumsub", "applicantExploded"}, 2, "applicantExploded"},
	{[]string{"spec", "export"}, 2, "needs a DIR"},
	{[]string{"spec", "export", "$TMP/file.txt"}, 2, "file.txt"},
	{[]string{"spec", "export", "$TMP/file.txt/sub"}, 2, "file.txt"},
	{[]string{"spec", "export", "/proc/kycsim-cannot-write"}, 2, "kycsim-cannot-write"},
	{[]string{"spec", "export", ""}, 2, "DIR"},
	// scenarios
	{[]string{"scenarios", "--tag", ""}, 2, "-tag"},
	{[]string{"scenarios", "--product", ""}, 2, "-product"},
	{[]string{"scenarios", "--product", "onfido"}, 2, "onfido"},
	{[]string{"scenarios", "--format", "yaml"}, 2, "--format"},
	{[]string{"scenarios", "extra"}, 2, "unexpected argument"},
	// send: arguments and URLs
	{[]string{"send"}, 2, "want PRODUCT MESSAGE"},
	{[]string{"send", "sumsub"}, 2, "want PRODUCT MESSAGE"},
	{[]string{"send", "sumsub", "applicantReviewed"}, 2, "--to is required"},
	{[]string{"send", "onfido", "x", "--to", down}, 2, "onfido"},
	{[]string{"send", "sumsub", "applicantExploded", "--to", down}, 2, "applicantExploded"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", ""}, 2, "-to"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", "127.0.0.1:1/sumsub"}, 2, "--to"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", "ftp://127.0.0.1/x"}, 2, "--to"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", "javascript:alert(1)"}, 2, "--to"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", "http://"}, 2, "--to"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", "http://127.0.0.1:70000/x"}, 2, "port 70000"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", "http://127.0.0.1:0/x"}, 2, "port 0"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", "http://127.0.0.1:99999999999/x"}, 2, "--to"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", "/sumsub"}, 2, "--to"},
	{[]string{"send", "sumsub", "applicantReviewed", "--dry-run", "--to", "bad"}, 2, "--to"},
	{[]string{"send", "sumsub", "applicantReviewed", "--dry-run", "--to", "http://127.0.0.1:65536/x"}, 2, "port 65536"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--vendor-base", "javascript:alert(1)"}, 2, "--vendor-base"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--vendor-base", ""}, 2, "-vendor-base"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--vendor-base", "api.example"}, 2, "--vendor-base"},
	// send: numbers
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--time-scale", "NaN"}, 2, "-time-scale"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--time-scale", "Inf"}, 2, "-time-scale"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--time-scale", "-Inf"}, 2, "-time-scale"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--time-scale", "1e308"}, 2, "-time-scale"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--time-scale", "0"}, 2, "-time-scale"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--time-scale", "-1"}, 2, "-time-scale"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--time-scale", "1e-300"}, 2, "-time-scale"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--time-scale", "fast"}, 2, "-time-scale"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--time-scale", ""}, 2, "-time-scale"},
	{[]string{"send", "jumio-kyx", "PROCESSED", "--to", down, "--precision", "4"}, 2, "-precision"},
	{[]string{"send", "jumio-kyx", "PROCESSED", "--to", down, "--precision", "-1"}, 2, "-precision"},
	{[]string{"send", "jumio-kyx", "PROCESSED", "--to", down, "--precision", "99999999999999999999"}, 2, "-precision"},
	{[]string{"send", "jumio-kyx", "PROCESSED", "--to", down, "--precision", "two"}, 2, "-precision"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--seed", "-1"}, 2, "--seed"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--seed", "1e3"}, 2, "--seed"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--seed", "18446744073709551616"}, 2, "--seed"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--seed", ""}, 2, "-seed"},
	// send: durations
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--connect-timeout", "-1s"}, 2, "-connect-timeout"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--answer-timeout", "-1s"}, 2, "-answer-timeout"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--answer-timeout", "10"}, 2, "-answer-timeout"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--answer-timeout", "1000000h"}, 2, "-answer-timeout"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--connect-timeout", "9999999999h"}, 2, "-connect-timeout"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--answer-timeout", ""}, 2, "-answer-timeout"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--retry-delays", ""}, 2, "-retry-delays"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--retry-delays", "1s,,2s"}, 2, "--retry-delays"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--retry-delays", "-1s"}, 2, "--retry-delays"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--retry-delays", "soon"}, 2, "--retry-delays"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--retry-delays", "1000000h"}, 2, "--retry-delays"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--retry-delays", strings.Repeat("1s,", 101) + "1s"}, 2, "--retry-delays"},
	// send: strings and lists
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--alg", "MD5"}, 2, "--alg"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--alg", ""}, 2, "-alg"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--form", "fancy"}, 2, "--form"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--sandbox-mode", "maybe"}, 2, "sandbox"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--from", ""}, 2, "-from"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--from", "10.0.0.1"}, 2, "--from"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--from", "localhost"}, 2, "--from"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--forwarded-for", "not-an-ip"}, 2, "--forwarded-for"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--forwarded-for", ""}, 2, "-forwarded-for"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--subject", ""}, 2, "-subject"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--set", ""}, 2, "-set"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--set", "noequals"}, 2, "--set"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--set", "nosuch.field=1"}, 2, "--set"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--set", "=1"}, 2, "--set"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--unset", ""}, 2, "-unset"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--unset", "nosuch"}, 2, "--unset"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--header", ""}, 2, "-header"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--header", "NoColon"}, 2, "--header"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--header", ": value"}, 2, "--header"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--header", "Bad Name: v"}, 2, "--header"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--header", "Content-Length: 5"}, 2, "Content-Length"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--header", "Transfer-Encoding: chunked"}, 2, "Transfer-Encoding"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--header", "Host: evil.example"}, 2, "Host"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--header", "X-A: a\rb"}, 2, "--header"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--raw-body", ""}, 2, "-raw-body"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--raw-body", "$TMP/missing.json"}, 2, "--raw-body"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--raw-body", "$TMP"}, 2, "--raw-body"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--raw-body", "$TMP/big.bin"}, 2, "--raw-body"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--raw-body", "$TMP/empty.json", "--set", "a=1"}, 2, "--raw-body"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--unsigned", "--secret", "s"}, 2, "--unsigned"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--log", ""}, 2, "-log"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--log", "$TMP"}, 2, "--log"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--log", "$TMP/file.txt/log"}, 2, "--log"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--no-retry=maybe"}, 2, "-no-retry"},
	{[]string{"send", "sumsub", "applicantReviewed", "--to", down, "--bogus"}, 2, "-bogus"},
	// run
	{[]string{"run"}, 2, "name scenarios"},
	{[]string{"run", "sumsub/nosuch", "--to", down}, 2, "sumsub/nosuch"},
	{[]string{"run", "$TMP/missing.yaml", "--to", down}, 2, "missing.yaml"},
	{[]string{"run", "$TMP/bad.yaml", "--to", down}, 2, "bad.yaml"},
	{[]string{"run", "--all"}, 2, "no receiver URL"},
	{[]string{"run", "--all", "--to", down}, 2, "--to serves one product"},
	{[]string{"run", "--all", "--base", ""}, 2, "-base"},
	{[]string{"run", "--all", "--base", "javascript:alert(1)"}, 2, "--base"},
	{[]string{"run", "--all", "--base", "127.0.0.1:9000"}, 2, "--base"},
	{[]string{"run", "--all", "--base", "http://127.0.0.1:70000"}, 2, "port 70000"},
	{[]string{"run", "--all", "--base", "http://"}, 2, "--base"},
	{[]string{"run", "--all", "--base", "http://127.0.0.1:9000", "--probe", "http://127.0.0.1:9000/probe"}, 2, "{subject}"},
	{[]string{"run", "--all", "--base", "http://127.0.0.1:9000", "--probe", "ftp://x/{subject}"}, 2, "--probe"},
	{[]string{"run", "--all", "--base", "http://127.0.0.1:9000", "--probe", "http://127.0.0.1:70000/{subject}"}, 2, "port 70000"},
	{[]string{"run", "--all", "--base", "http://127.0.0.1:9000", "--probe", "/_probe/{subject}"}, 2, "--probe"},
	{[]string{"run", "--all", "--base", "http://127.0.0.1:9000", "--probe", ""}, 2, "-probe"},
	{[]string{"run", "sumsub/happy-path", "--to", "http://127.0.0.1:70000/x"}, 2, "port 70000"},
	{[]string{"run", "sumsub/happy-path", "--to", "http://127.0.0.1:0/x"}, 2, "port 0"},
	{[]string{"run", "sumsub/happy-path", "--to", "localhost:9000"}, 2, "--to"},
	{[]string{"run", "sumsub/happy-path", "--to", ""}, 2, "-to"},
	{[]string{"run", "sumsub/happy-path", "--target", "sumsub"}, 2, "--target"},
	{[]string{"run", "sumsub/happy-path", "--target", "sumsub=http://127.0.0.1:70000/x"}, 2, "port 70000"},
	{[]string{"run", "sumsub/happy-path", "--target", "sumsub=javascript:x"}, 2, "--target"},
	{[]string{"run", "sumsub/happy-path", "--target", ""}, 2, "-target"},
	{[]string{"run", "sumsub/happy-path", "--to", down, "--time-scale", "NaN"}, 2, "-time-scale"},
	{[]string{"run", "sumsub/happy-path", "--to", down, "--time-scale", "Inf"}, 2, "-time-scale"},
	{[]string{"run", "sumsub/happy-path", "--to", down, "--time-scale", "1e308"}, 2, "-time-scale"},
	{[]string{"run", "sumsub/happy-path", "--to", down, "--time-scale", "0"}, 2, "-time-scale"},
	{[]string{"run", "sumsub/happy-path", "--to", down, "--parallel", "0"}, 2, "-parallel"},
	{[]string{"run", "sumsub/happy-path", "--to", down, "--parallel", "1000000000"}, 2, "-parallel"},
	{[]string{"run", "sumsub/happy-path", "--to", down, "--parallel", "-3"}, 2, "-parallel"},
	{[]string{"run", "sumsub/happy-path", "--to", down, "--quiet", "-1s"}, 2, "-quiet"},
	{[]string{"run", "sumsub/happy-path", "--to", down, "--quiet", "100000h"}, 2, "-quiet"},
	{[]string{"run", "sumsub/happy-path", "--to", down, "--seed", "x"}, 2, "--seed"},
	{[]string{"run", "sumsub/happy-path", "--to", down, "--format", "xml"}, 2, "--format"},
	{[]string{"run", "sumsub/happy-path", "--to", down, "--report", "xml:$TMP/r.xml"}, 2, "--report"},
	{[]string{"run", "sumsub/happy-path", "--to", down, "--report", "json"}, 2, "--report"},
	{[]string{"run", "sumsub/happy-path", "--to", down, "--report", "json:"}, 2, "--report"},
	{[]string{"run", "sumsub/happy-path", "--to", down, "--report", ""}, 2, "-report"},
	{[]string{"run", "sumsub/happy-path", "--to", down, "--report", "json:$TMP/file.txt/r.json"}, 2, "--report"},
	{[]string{"run", "sumsub/happy-path", "--to", down, "--tag", ""}, 2, "-tag"},
	{[]string{"run", "sumsub/happy-path", "--to", down, "--skip-tag", ""}, 2, "-skip-tag"},
	{[]string{"run", "--tag", "nosuch-tag", "--to", down}, 2, "nosuch-tag"},
	{[]string{"run", "sumsub/happy-path", "--to", down, "--replay-dir", ""}, 2, "-replay-dir"},
	{[]string{"run", "sumsub/happy-path", "--to", down, "--secret", ""}, 2, "-secret"},
	// conform
	{[]string{"conform"}, 2, "--to and --product are required"},
	{[]string{"conform", "--product", "sumsub"}, 2, "--to and --product are required"},
	{[]string{"conform", "--to", down}, 2, "--to and --product are required"},
	{[]string{"conform", "--to", down, "--product", "onfido"}, 2, "onfido"},
	{[]string{"conform", "--to", down, "--product", ""}, 2, "-product"},
	{[]string{"conform", "--to", "", "--product", "sumsub"}, 2, "-to"},
	{[]string{"conform", "--to", "bad", "--product", "sumsub"}, 2, "--to"},
	{[]string{"conform", "--to", "javascript:alert(1)", "--product", "sumsub"}, 2, "--to"},
	{[]string{"conform", "--to", "http://127.0.0.1:70000/x", "--product", "sumsub"}, 2, "port 70000"},
	{[]string{"conform", "--to", "http://127.0.0.1:0/x", "--product", "sumsub"}, 2, "port 0"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--probe", "http://127.0.0.1:1/probe"}, 2, "{subject}"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--probe", "ftp://x/{subject}"}, 2, `"ftp://x/{subject}"`},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--probe", "http://127.0.0.1:70000/{subject}"}, 2, `"http://127.0.0.1:70000/{subject}"`},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--probe", ""}, 2, "-probe"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--time-scale", "NaN"}, 2, "-time-scale"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--time-scale", "1e308"}, 2, "-time-scale"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--time-scale", "-1"}, 2, "-time-scale"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--settle", "0s"}, 2, "-settle"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--settle", "-1s"}, 2, "-settle"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--settle", "1000000h"}, 2, "-settle"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--quiet", "-1s"}, 2, "-quiet"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--wait", "-1s"}, 2, "-wait"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--wait", "1000000h"}, 2, "-wait"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--parallel", "0"}, 2, "-parallel"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--parallel", "100000000"}, 2, "-parallel"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--format", "xml"}, 2, "--format"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--content-policy", "drop"}, 2, "--content-policy"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--content-policy", ""}, 2, "-content-policy"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--jumio-invalid", "drop"}, 2, "--jumio-invalid"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--source-mode", "nat"}, 2, "--source-mode"},
	{[]string{"conform", "--to", down, "--product", "jumio-kyx", "--foreign-source", "10.0.0.1"}, 2, "--foreign-source"},
	{[]string{"conform", "--to", down, "--product", "jumio-kyx", "--foreign-source", ""}, 2, "-foreign-source"},
	{[]string{"conform", "--to", down, "--product", "jumio-kyx", "--foreign-source", "127.0.0.1"}, 2, "--foreign-source"},
	{[]string{"conform", "--to", down, "--product", "jumio-kyx", "--source-mode", "proxy", "--foreign-source", "34.202.241.227"}, 2, "--foreign-source"},
	{[]string{"conform", "--to", down, "--product", "jumio-kyx", "--source-mode", "proxy", "--foreign-source", "x"}, 2, "--foreign-source"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--handles", ""}, 2, "-handles"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--handles", "applicantExploded"}, 2, "--handles"},
	{[]string{"conform", "--to", down, "--handles", "applicantReviewed"}, 2, "--handles"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--only", "[", "--list"}, 2, "--only"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--only", ""}, 2, "-only"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--only", "nosuch.*"}, 2, "no case is selected"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--skip", ""}, 2, "-skip"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--seed", "abc"}, 2, "--seed"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--report", "pdf:$TMP/r.pdf"}, 2, "--report"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--report", "json:$TMP/file.txt/r.json"}, 2, "--report"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--report", ""}, 2, "-report"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--secret", ""}, 2, "-secret"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "--replay-dir", ""}, 2, "-replay-dir"},
	{[]string{"conform", "--to", down, "--product", "sumsub", "extra"}, 2, "unexpected argument"},
	{[]string{"conform", "--profile", "$TMP/missing.yaml"}, 2, "--profile"},
	{[]string{"conform", "--profile", ""}, 2, "-profile"},
	{[]string{"conform", "--profile", "$TMP/profile-unknown-key.yaml"}, 2, `unknown key "colour"`},
	{[]string{"conform", "--profile", "$TMP/profile-unknown-key.yaml"}, 2, "profile-unknown-key.yaml:3"},
	{[]string{"conform", "--profile", "$TMP/profile-bad-url.yaml"}, 2, "profile-bad-url.yaml"},
	{[]string{"conform", "--profile", "$TMP/profile-bad-port.yaml"}, 2, "70000"},
	{[]string{"conform", "--profile", "$TMP/profile-nan.yaml"}, 2, "time-scale"},
	{[]string{"conform", "--profile", "$TMP/profile-parallel.yaml"}, 2, "parallel"},
	{[]string{"conform", "--profile", "$TMP/bad.yaml"}, 2, "bad.yaml"},
	{[]string{"conform", "--profile", "$TMP/big.bin"}, 2, "--profile"},
	{[]string{"conform", "--profile", "$TMP/profile-ok.yaml", "--to", down}, 2, "--profile"},
	// demo
	{[]string{"demo", "--time-scale", "NaN"}, 2, "-time-scale"},
	{[]string{"demo", "--time-scale", "Inf"}, 2, "-time-scale"},
	{[]string{"demo", "--time-scale", "1e308"}, 2, "-time-scale"},
	{[]string{"demo", "--time-scale", "0"}, 2, "-time-scale"},
	{[]string{"demo", "--time-scale", "-0.5"}, 2, "-time-scale"},
	{[]string{"demo", "--time-scale", ""}, 2, "-time-scale"},
	{[]string{"demo", "extra"}, 2, "unexpected argument"},
	// receiver
	{[]string{"receiver", "--addr", ""}, 2, "-addr"},
	{[]string{"receiver", "--addr", ":0"}, 2, "--addr"},
	{[]string{"receiver", "--addr", "127.0.0.1:70000"}, 2, "--addr"},
	{[]string{"receiver", "--addr", "not an address"}, 2, "--addr"},
	{[]string{"receiver", "--addr", "127.0.0.1:0", "--defect", "nosuch"}, 2, "nosuch"},
	{[]string{"receiver", "--addr", "127.0.0.1:0", "--defect", ""}, 2, "-defect"},
	{[]string{"receiver", "--addr", "127.0.0.1:0", "--handles", ""}, 2, "-handles"},
	{[]string{"receiver", "--addr", "127.0.0.1:0", "--handles", "sumsub"}, 2, "--handles"},
	{[]string{"receiver", "--addr", "127.0.0.1:0", "--handles", "onfido:x"}, 2, "onfido"},
	{[]string{"receiver", "--addr", "127.0.0.1:0", "--fetch-host", ""}, 2, "-fetch-host"},
	{[]string{"receiver", "--addr", "127.0.0.1:0", "--fetch-host", "http://x:y:z"}, 2, "fetch"},
	{[]string{"receiver", "--addr", "127.0.0.1:0", "--allow", "not-an-ip"}, 2, "--allow"},
	{[]string{"receiver", "--addr", "127.0.0.1:0", "--allow", ""}, 2, "-allow"},
	{[]string{"receiver", "--addr", "127.0.0.1:0", "--jumio-invalid", "drop"}, 2, "drop"},
	{[]string{"receiver", "--addr", "127.0.0.1:0", "--slow-delay", "-1s"}, 2, "-slow-delay"},
	{[]string{"receiver", "--addr", "127.0.0.1:0", "--slow-delay", "1000000h"}, 2, "-slow-delay"},
	{[]string{"receiver", "--addr", "127.0.0.1:0", "--secret", ""}, 2, "-secret"},
	{[]string{"receiver", "extra"}, 2, "unexpected argument"},
	// load
	{[]string{"load", "sumsub", "applicantReviewed"}, 2, "--to is required"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down}, 2, "--rate is required"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", "http://10.0.0.1:1/x", "--rate", "10"}, 2, "--to"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", "http://127.0.0.1:70000/x", "--rate", "10"}, 2, "--to"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", "javascript:x", "--rate", "10"}, 2, "--to"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", "", "--rate", "10"}, 2, "-to"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "NaN"}, 2, "--rate"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "Inf"}, 2, "--rate"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "1e308"}, 2, "--rate"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "0"}, 2, "--rate"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "-5"}, 2, "--rate"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "5/d"}, 2, "--rate"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "1e-300"}, 2, "--rate"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "1/h/s"}, 2, "--rate"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", ""}, 2, "-rate"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--duration", "0s"}, 2, "-duration"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--duration", "-1s"}, 2, "-duration"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--duration", "1000000h"}, 2, "-duration"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--max-requests", "-1"}, 2, "-max-requests"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--max-requests", "100000000000000"}, 2, "-max-requests"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--connections", "1000000000"}, 2, "-connections"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "max", "--connections", "100000000", "--duration", "1s"}, 2, "-connections"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--connections", "0"}, 2, "-connections"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--connections", "-1"}, 2, "-connections"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--probe-sample", "1000000000000"}, 2, "-probe-sample"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--probe-sample", "0"}, 2, "-probe-sample"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--probe-settle", "-1s"}, 2, "-probe-settle"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--connect-timeout", "-1s"}, 2, "-connect-timeout"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--answer-timeout", "-1s"}, 2, "-answer-timeout"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--duplicates", "NaN%"}, 2, "--duplicates"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--duplicates", "Inf%"}, 2, "--duplicates"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--duplicates", "10"}, 2, "--duplicates"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--duplicates", "100%"}, 2, "--duplicates"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--duplicates", "-5%"}, 2, "--duplicates"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--duplicates", ""}, 2, "-duplicates"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--stale", "1e308%"}, 2, "--stale"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--stale", "60%", "--duplicates", "50%"}, 2, "--duplicates and --stale"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--time-scale", "NaN"}, 2, "-time-scale"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--time-scale", "Inf"}, 2, "-time-scale"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--time-scale", "1e308"}, 2, "-time-scale"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--precision", "7"}, 2, "-precision"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--format", "csv"}, 2, "--format"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--alg", "MD5"}, 2, "--alg"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--header", "NoColon"}, 2, "--header"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--header", "Content-Length: 5"}, 2, "Content-Length"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--from", "10.0.0.1"}, 2, "--from"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--from", ""}, 2, "-from"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--probe", "http://127.0.0.1:1/p"}, 2, "{subject}"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--probe", "http://10.0.0.1/{subject}"}, 2, "--probe"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--probe", ""}, 2, "-probe"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--vendor-base", "javascript:x"}, 2, "--vendor-base"},
	{[]string{"load", "sumsub", "applicantReviewed", "--to", down, "--rate", "10", "--scenario", ""}, 2, "-scenario"},
	{[]string{"load", "--scenario", "sumsub/nosuch", "--to", down, "--rate", "10"}, 2, "sumsub/nosuch"},
	{[]string{"load", "--to", down, "--rate", "10"}, 2, "want PRODUCT MESSAGE"},
	{[]string{"load", "onfido", "x", "--to", down, "--rate", "10"}, 2, "onfido"},
	// serve
	{[]string{"serve", "--db", ":memory:", "--time-scale", "NaN"}, 2, "-time-scale"},
	{[]string{"serve", "--db", ":memory:", "--time-scale", "Inf"}, 2, "-time-scale"},
	{[]string{"serve", "--db", ":memory:", "--time-scale", "1e308"}, 2, "-time-scale"},
	{[]string{"serve", "--db", ":memory:", "--time-scale", "0"}, 2, "-time-scale"},
	{[]string{"serve", "--db", ":memory:", "--time-scale", "-1"}, 2, "-time-scale"},
	{[]string{"serve", "--db", ":memory:", "--workers", "0"}, 2, "-workers"},
	{[]string{"serve", "--db", ":memory:", "--workers", "-1"}, 2, "-workers"},
	{[]string{"serve", "--db", ":memory:", "--workers", "1000000000"}, 2, "-workers"},
	{[]string{"serve", "--db", ":memory:", "--addr", ""}, 2, "-addr"},
	{[]string{"serve", "--db", ":memory:", "--addr", ":0"}, 2, "--addr"},
	{[]string{"serve", "--db", ":memory:", "--addr", "127.0.0.1:70000"}, 2, "--addr"},
	{[]string{"serve", "--db", ":memory:", "--webhook", "sumsub"}, 2, "--webhook"},
	{[]string{"serve", "--db", ":memory:", "--webhook", "onfido=http://127.0.0.1:1/x"}, 2, "--webhook"},
	{[]string{"serve", "--db", ":memory:", "--webhook", "sumsub=javascript:alert(1)"}, 2, "--webhook"},
	{[]string{"serve", "--db", ":memory:", "--webhook", "sumsub=http://127.0.0.1:70000/x"}, 2, "70000"},
	{[]string{"serve", "--db", ":memory:", "--webhook", ""}, 2, "-webhook"},
	{[]string{"serve", "--db", ":memory:", "--webhook-alg", "MD5"}, 2, "--webhook-alg"},
	{[]string{"serve", "--db", ":memory:", "--jumio-client", "nocolon"}, 2, "--jumio-client"},
	{[]string{"serve", "--db", ":memory:", "--jumio-client", ":secret"}, 2, "--jumio-client"},
	{[]string{"serve", "--db", ":memory:", "--log-format", "xml"}, 2, "--log-format"},
	{[]string{"serve", "--db", ":memory:", "--allow-callback", ""}, 2, "-allow-callback"},
	{[]string{"serve", "--db", ""}, 2, "-db"},
	{[]string{"serve", "--db", ":memory:", "--sumsub-app-token", ""}, 2, "-sumsub-app-token"},
	{[]string{"serve", "--db", ":memory:", "--control-token", ""}, 2, "-control-token"},
	{[]string{"serve", "--db", ":memory:", "extra"}, 2, "unexpected argument"},
	// version and the command line itself
	{[]string{"version", "--bogus"}, 2, "-bogus"},
	{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
	{[]string{""}, 2, `unknown command ""`},
}

// badInputFiles are the files $TMP holds.
var badInputFiles = map[string]string{
	"empty.json":               "",
	"file.txt":                 "a file, not a directory\n",
	"bad.yaml":                 "product: sumsub\nsteps: [\n",
	"profile-ok.yaml":          "targets:\n  sumsub: http://127.0.0.1:1/sumsub\n",
	"profile-unknown-key.yaml": "targets:\n  sumsub: http://127.0.0.1:1/sumsub\ncolour: blue\n",
	"profile-bad-url.yaml":     "targets:\n  sumsub: javascript:alert(1)\n",
	"profile-bad-port.yaml":    "targets:\n  sumsub: http://127.0.0.1:70000/sumsub\n",
	"profile-nan.yaml":         "targets:\n  sumsub: http://127.0.0.1:1/sumsub\ntime-scale: .nan\n",
	"profile-parallel.yaml":    "targets:\n  sumsub: http://127.0.0.1:1/sumsub\nparallel: 100000000\n",
}

// setUpBadInputs writes badInputFiles into a temporary directory.
func setUpBadInputs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range badInputFiles {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	big := bytes.Repeat([]byte("x"), maxInputFile+1)
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBadInputs runs the sweep of bad inputs: each must end with its exit
// code and a message naming the place, before anything is sent or bound.
// With KYCSIM_BADINPUT_BIN set to a kycsim binary, the sweep runs that
// binary instead (each input in its own process, 5 s and 2 GiB at most),
// which is how the closing note counts an older build's clean answers;
// the count is logged.
func TestBadInputs(t *testing.T) {
	if len(badInputs) < 200 {
		t.Errorf("the sweep has %d bad inputs; keep at least 200", len(badInputs))
	}
	dir := setUpBadInputs(t)
	bin := os.Getenv("KYCSIM_BADINPUT_BIN")
	t.Setenv(secretFromEnv, "")
	clean := 0
	for _, in := range badInputs {
		args := make([]string, len(in.args))
		for i, a := range in.args {
			args[i] = strings.ReplaceAll(a, "$TMP", dir)
		}
		name := strings.Join(in.args, " ")
		ok := t.Run(name, func(t *testing.T) {
			var code int
			var stderr string
			if bin != "" {
				code, stderr = runBinary(t, bin, args)
			} else {
				code, stderr = runBounded(t, args)
			}
			if code != in.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, in.code, stderr)
			}
			if msg := errorLines(stderr); !strings.Contains(msg, in.frag) {
				t.Errorf("the error %q lacks %q; stderr:\n%s", msg, in.frag, stderr)
			}
		})
		if ok {
			clean++
		}
	}
	t.Logf("%d of %d bad inputs answered cleanly", clean, len(badInputs))
}

// runBounded runs kycsim in-process with a deadline: a bad input that is
// not refused must not start a server or a delivery that never ends.
func runBounded(t *testing.T, args []string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}
	code := m.Run(ctx, args)
	return code, errb.String()
}

// runBinary runs a kycsim binary on one bad input, in a shell that caps
// its memory, for at most 5 s.
func runBinary(t *testing.T, bin string, args []string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", append([]string{"-c", `ulimit -v 2097152; exec "$0" "$@"`, bin}, args...)...)
	cmd.Env = append(os.Environ(), secretFromEnv+"=")
	cmd.Dir = t.TempDir()
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return -1, errb.String() + "\n(killed after 5 s)"
	case errors.As(err, &ee):
		return ee.ExitCode(), errb.String()
	case err != nil:
		t.Fatal(err)
	}
	return 0, errb.String()
}

// errorLines returns the lines of standard error that say what went wrong
// ("kycsim CMD: ..."), leaving out the usage text a bad flag also prints,
// which names every flag.
func errorLines(stderr string) string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		if (strings.HasPrefix(l, "kycsim ") || strings.HasPrefix(l, "kycsim:")) && !strings.HasPrefix(l, "kycsim plays") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
