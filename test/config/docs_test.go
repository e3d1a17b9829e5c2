package config

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ftcost/ftcost/internal/cli"
	"github.com/ftcost/ftcost/internal/testenv"
)

// transcript is a "$ bin/ftcost ..." line of a fenced block and the lines shown after it.
type transcript struct {
	file    string
	line    int
	command string
	output  []string
}

// transcripts reads the ftcost commands shown with their output in a Markdown file.
func transcripts(t *testing.T, path string) []transcript {
	t.Helper()
	f, err := os.Open(filepath.Join(testenv.RepoRoot(), path))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var out []transcript
	var cur *transcript
	inBlock := false
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		l := s.Text()
		switch {
		case strings.HasPrefix(l, "```"):
			inBlock, cur = !inBlock, nil
		case !inBlock:
		case strings.HasPrefix(l, "$ "):
			cur = nil
			if cmd := strings.TrimPrefix(l, "$ "); strings.HasPrefix(cmd, "bin/ftcost ") {
				out = append(out, transcript{file: path, line: n, command: cmd})
				cur = &out[len(out)-1]
			}
		case cur != nil:
			cur.output = append(cur.output, strings.TrimRight(l, " "))
		}
	}
	return out
}

// TestDocTranscripts runs every `$ bin/ftcost ...` command shown with its output in the README and
// docs/guide.md (from the repository's top folder) and fails when the output shown is not what the
// command prints now: its stdout, or its stdout followed by its stderr. A command with shell syntax
// (a pipe, `;`, a redirection) is not run, and says so.
func TestDocTranscripts(t *testing.T) {
	t.Chdir(testenv.RepoRoot())
	checked := 0
	for _, doc := range []string{"README.md", "docs/guide.md"} {
		for _, tr := range transcripts(t, doc) {
			if strings.ContainsAny(tr.command, ";|<>'\"") || strings.Contains(tr.command, "$(") {
				t.Logf("%s:%d: not run (shell syntax): %s", tr.file, tr.line, tr.command)
				continue
			}
			checked++
			var stdout, stderr strings.Builder
			cli.Run(strings.Fields(tr.command)[1:], cli.Streams{In: strings.NewReader(""), Out: &stdout, Err: &stderr})
			lines := func(s string) []string {
				var out []string
				for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
					out = append(out, strings.TrimRight(l, " "))
				}
				return out
			}
			want := tr.output
			for len(want) > 0 && want[len(want)-1] == "" {
				want = want[:len(want)-1]
			}
			got := lines(stdout.String())
			if len(want) > len(got) && stderr.Len() > 0 {
				got = append(got, lines(stderr.String())...)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s:%d: $ %s\nthe output shown differs from what it prints now (-shown +printed):\n%s", tr.file, tr.line, tr.command, diff)
			}
		}
	}
	if checked < 2 {
		t.Errorf("only %d transcripts checked; the README and docs/guide.md show at least two", checked)
	}
}
