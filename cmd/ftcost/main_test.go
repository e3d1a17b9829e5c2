package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ftcost/ftcost/internal/cli"
)

// `ftcost completion SHELL` prints cobra's completion script for each shell it documents.
func TestCompletion(t *testing.T) {
	for shell, want := range map[string]string{
		"bash": "# bash completion V2 for ftcost",
		"zsh":  "#compdef ftcost",
		"fish": "# fish completion for ftcost",
	} {
		t.Run(shell, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := cli.Run([]string{"completion", shell}, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errOut})
			if code != cli.ExitOK {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			if !strings.Contains(out.String(), want) {
				t.Errorf("output lacks %q:\n%.300s", want, out.String())
			}
		})
	}
}
