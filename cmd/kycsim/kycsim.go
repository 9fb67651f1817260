package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Main is the kycsim program with its standard streams, so that tests can
// run it in-process.
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// NewMain returns a Main on the process's standard streams.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(m *Main, ctx context.Context, args []string) error
}

func commands() []command {
	return []command{
		{"validate", "validate a callback payload against the vendor contract", (*Main).runValidate},
		{"spec", "show the compiled catalog: list, schema, export", (*Main).runSpec},
		{"send", "deliver one vendor-faithful callback", (*Main).runSend},
		{"scenarios", "list the built-in scenarios", (*Main).runScenarios},
		{"run", "play scenarios against a receiver and check their expectations", (*Main).runRun},
		{"load", "send vendor-faithful callbacks at a fixed arrival rate and measure the receiver", (*Main).runLoad},
		{"record", "capture real callbacks in front of a receiver, masked, as scenarios; report contract drift", (*Main).runRecord},
		{"serve", "run the sandbox that replaces Jumio and Sumsub: vendor APIs, outcome page, signed callbacks", (*Main).runServe},
		{"conform", "certify a receiver against the conformance cases", (*Main).runConform},
		{"demo", "certify the reference receiver in-process with the full suite", (*Main).runDemo},
		{"receiver", "run the reference webhook receiver", (*Main).runReceiver},
		{"version", "print the kycsim version and how it was built", (*Main).runVersion},
	}
}

// Run runs one command line and returns the process exit code.
func (m *Main) Run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		m.usage(m.Stderr)
		return ExitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		m.usage(m.Stdout)
		return ExitOK
	case "-version", "--version":
		return m.exit("version", m.runVersion(ctx, args[1:]))
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(m, ctx, args[1:])
			return m.exit(c.name, err)
		}
	}
	fmt.Fprintf(m.Stderr, "kycsim: unknown command %q\n\n", args[0])
	m.usage(m.Stderr)
	return ExitUsage
}

func (m *Main) usage(w io.Writer) {
	fmt.Fprintln(w, "kycsim plays a KYC vendor (Jumio, Sumsub) toward your webhook receiver and judges it.")
	fmt.Fprintln(w, "\nUsage: kycsim <command> [flags] [args]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'kycsim <command> -h' for a command's flags.")
}

// exit prints an error and maps it to an exit code: the one place where
// errors become exit codes.
func (m *Main) exit(cmd string, err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	code := ExitCode(err)
	var f *failedError
	if !errors.As(err, &f) { // a failed check has already been reported
		fmt.Fprintf(m.Stderr, "kycsim %s: %v\n", cmd, err)
	}
	if code == ExitUsage {
		fmt.Fprintf(m.Stderr, "run 'kycsim %s -h' for usage\n", cmd)
	}
	return code
}

// parseFlags parses flags that may come before, between or after the
// positional arguments, and returns the positional ones. A lone "-" is a
// positional argument (standard input); "--" ends the flags.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageErrorf("%v", err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, checkSetFlags(fs)
		}
		if len(args) > 0 && len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), checkSetFlags(fs)
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// newFlagSet makes a flag set that reports errors to us, not by exiting.
func (m *Main) newFlagSet(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("kycsim "+name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(m.Stderr, "Usage: kycsim %s\n", usage)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n == 0 {
			return // no "Flags:" heading over nothing
		}
		fmt.Fprint(m.Stderr, "\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs
}

// oneOf checks a flag value against its allowed values.
func oneOf(flagName, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return usageErrorf("--%s %q is not one of %s", flagName, v, strings.Join(allowed, ", "))
}
