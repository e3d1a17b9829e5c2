// Package hygiene checks the repository as a reader gets it: every git-tracked file.
package hygiene

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ftcost/ftcost/internal/testenv"
)

// privatePaths are references to the maintainers' shared folder, which users of the repository do
// not have. They are built from pieces so that this file does not contain them.
var privatePaths = []string{"shar" + "ed/", "../" + "shared"}

// jargon is the maintainers' word for the Fine-Tuning Economics article, which readers would not
// know; the repository names the article instead. Built from pieces, like privatePaths.
var jargon = regexp.MustCompile(`(?i)\b` + "se" + `ed(s|'s)?\b`)

// thisFile is excluded: it has to name the patterns it looks for.
const thisFile = "test/hygiene/hygiene_test.go"

func privateReference(content []byte) (string, bool) {
	for _, p := range privatePaths {
		if bytes.Contains(content, []byte(p)) {
			return p, true
		}
	}
	if w := jargon.Find(content); w != nil {
		return string(w), true
	}
	return "", false
}

func TestPrivateReference(t *testing.T) {
	cases := map[string]struct {
		content string
		want    bool
	}{
		"a shared folder path":        {"see " + "shar" + "ed/design/API.md", true},
		"a relative path to it":       {"[notes](../" + "shared)", true},
		"a docs link":                 {"see docs/cost-model.md#the-fine-tuning-economics-article", false},
		"the word alone is no path":   {"the catalog is shared by the CLI and the operator", false},
		"another folder ending in it": {"overshared", false},
		"the maintainers' word":       {"estimate the " + "se" + "ed's support bot", true},
		"its plural":                  {"the " + "Se" + "eds", true},
		"a word that contains it":     {"proceeds at full speed", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if _, got := privateReference([]byte(tc.content)); got != tc.want {
				t.Errorf("privateReference(%q) = %v, want %v", tc.content, got, tc.want)
			}
		})
	}
}

// TestNoReferenceToSharedFolder fails when a tracked file points readers at a file they do not have.
func TestNoReferenceToSharedFolder(t *testing.T) {
	root := testenv.RepoRoot()
	cmd := exec.Command("git", "ls-files", "-z")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	files := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	if len(files) < 10 {
		t.Fatalf("git ls-files listed %d files; run the test in a git checkout", len(files))
	}
	for _, f := range files {
		if f == thisFile {
			continue
		}
		content, err := os.ReadFile(filepath.Join(root, f))
		if os.IsNotExist(err) {
			continue // deleted in the work tree, not yet committed
		}
		if err != nil {
			t.Fatal(err)
		}
		if p, found := privateReference(content); found {
			t.Errorf("%s mentions %q: name the source as a reader can find it (see docs/cost-model.md#the-fine-tuning-economics-article)", f, p)
		}
	}
}
