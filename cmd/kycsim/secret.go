package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// secretFlag is a value that may be secret: given as --NAME (which
// shows in the process list), read from the file --NAME-file names (a
// mounted secret), or from the environment variable Env, in that order
// of precedence, else Default.
type secretFlag struct {
	Name, Env, Default string
	value, file        *string
}

// maxSecretFile bounds a secret file.
const maxSecretFile = 64 << 10

// newSecretFlag registers --NAME and --NAME-file on fs.
func newSecretFlag(fs *flag.FlagSet, name, env, def, usage string) *secretFlag {
	s := &secretFlag{Name: name, Env: env, Default: def}
	defNote := ""
	if def != "" {
		defNote = ", else " + def
	}
	s.value = fs.String(name, "", usage+" (also --"+name+"-file FILE or $"+env+defNote+")")
	s.file = fs.String(name+"-file", "", "file holding the value of --"+name+" (a mounted secret: kept out of the process list)")
	return s
}

// resolve returns the value and where it came from: "flag", "file",
// "env" or "default".
func (s *secretFlag) resolve() (string, string, error) {
	switch {
	case *s.value != "" && *s.file != "":
		return "", "", usageErrorf("--%s and --%s-file: give one of them", s.Name, s.Name)
	case *s.value != "":
		return *s.value, "flag", nil
	case *s.file != "":
		f, err := os.Open(*s.file)
		if err != nil {
			return "", "", usageErrorf("--%s-file: %v", s.Name, err)
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
		if err != nil {
			return "", "", usageErrorf("--%s-file %s: %v", s.Name, *s.file, err)
		}
		if len(b) > maxSecretFile {
			return "", "", usageErrorf("--%s-file %s: larger than %d bytes", s.Name, *s.file, maxSecretFile)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", "", usageErrorf("--%s-file %s: the file is empty", s.Name, *s.file)
		}
		return v, "file", nil
	case os.Getenv(s.Env) != "":
		return os.Getenv(s.Env), "env", nil
	}
	return s.Default, "default", nil
}

// note describes where a secret came from without showing it (a
// default is public and shown).
func (s *secretFlag) note(value, from string) string {
	switch from {
	case "default":
		if value == "" {
			return "(none)"
		}
		return value + " (default)"
	case "file":
		return fmt.Sprintf("(set, from --%s-file)", s.Name)
	case "env":
		return "(set, from $" + s.Env + ")"
	}
	return "(set)"
}
