package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestInputLimits: what the CLI refuses to read, each by name with exit 2, without hanging or
// reading without end; the regular files next to it are still estimated.
func TestInputLimits(t *testing.T) {
	sample, err := os.ReadFile(td("article-example-1.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		// setup fills dir and returns the command's arguments.
		setup   func(t *testing.T, dir string) []string
		stdin   string
		wantErr string
		wantOut string
	}{
		"a named pipe in a directory": {setup: func(t *testing.T, dir string) []string {
			mkfifo(t, filepath.Join(dir, "pipe.yaml"))
			return []string{"estimate", "-f", dir}
		}, wantErr: "pipe.yaml: not a regular file but a named pipe (FIFO): refused", wantOut: "support-bot"},
		"a named pipe given by name": {setup: func(t *testing.T, dir string) []string {
			mkfifo(t, filepath.Join(dir, "pipe.yaml"))
			return []string{"estimate", "-f", filepath.Join(dir, "pipe.yaml"), "-f", filepath.Join(dir, "ok.yaml")}
		}, wantErr: "pipe.yaml: not a regular file but a named pipe (FIFO): refused", wantOut: "support-bot"},
		"a symlink to a named pipe": {setup: func(t *testing.T, dir string) []string {
			pipe := filepath.Join(t.TempDir(), "pipe")
			mkfifo(t, pipe)
			link(t, pipe, filepath.Join(dir, "link.yaml"))
			return []string{"estimate", "-f", dir}
		}},
		"a symlink to /dev/zero": {setup: func(t *testing.T, dir string) []string {
			link(t, "/dev/zero", filepath.Join(dir, "zero.yaml"))
			return []string{"estimate", "-f", dir}
		}, wantErr: "zero.yaml: not a regular file but a device: refused", wantOut: "support-bot"},
		"a file over the default size limit": {setup: func(t *testing.T, dir string) []string {
			big := filepath.Join(dir, "big.yaml")
			if err := os.WriteFile(big, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(big, DefaultMaxInputBytes+1); err != nil { // sparse: nothing is written
				t.Fatal(err)
			}
			return []string{"estimate", "-f", dir}
		}, wantErr: fmt.Sprintf("big.yaml: larger than the limit of %d bytes a file (--max-input-bytes)", DefaultMaxInputBytes), wantOut: "support-bot"},
		"a file over --max-input-bytes": {setup: func(t *testing.T, dir string) []string {
			return []string{"estimate", "--max-input-bytes=100", "-f", filepath.Join(dir, "ok.yaml")}
		}, wantErr: "ok.yaml: larger than the limit of 100 bytes a file (--max-input-bytes)"},
		"stdin over --max-input-bytes": {setup: func(*testing.T, string) []string {
			return []string{"estimate", "--max-input-bytes=100", "-f", "-"}
		}, stdin: strings.Repeat("---\n", 1000), wantErr: "<stdin>: larger than the limit of 100 bytes a file (--max-input-bytes)"},
		"more documents than --max-documents": {setup: func(t *testing.T, dir string) []string {
			three := filepath.Join(dir, "three.yaml")
			if err := os.WriteFile(three, []byte(strings.Repeat("---\n"+string(sample)+"\n", 3)), 0o600); err != nil {
				t.Fatal(err)
			}
			return []string{"estimate", "--max-documents=2", "-f", three}
		}, wantErr: "three.yaml: document 3: more than 2 documents in the inputs (--max-documents): the rest is not read", wantOut: "support-bot"},
		"a file of --- lines": {setup: func(*testing.T, string) []string {
			return []string{"estimate", "-f", "-"}
		}, stdin: strings.Repeat("---\n", 4*DefaultMaxDocuments), wantErr: fmt.Sprintf("<stdin>: document %d: more than %d documents", DefaultMaxDocuments+1, DefaultMaxDocuments)},
		"explain reads with the same limits": {setup: func(t *testing.T, dir string) []string {
			link(t, "/dev/zero", filepath.Join(dir, "zero.yaml"))
			return []string{"explain", "-f", filepath.Join(dir, "zero.yaml")}
		}, wantErr: "zero.yaml: not a regular file but a device: refused"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "ok.yaml"), sample, 0o600); err != nil {
				t.Fatal(err)
			}
			args := tc.setup(t, dir)
			done := make(chan run, 1)
			go func() { done <- ftcost(t, tc.stdin, args...) }()
			var r run
			select {
			case r = <-done:
			case <-time.After(30 * time.Second):
				t.Fatalf("ftcost %v still runs after 30 s", args)
			}
			if r.code != ExitInput {
				t.Errorf("exit %d, want %d; stderr:\n%s", r.code, ExitInput, r.err)
			}
			want := tc.wantErr
			if want == "" {
				want = "link.yaml: not a regular file but a named pipe (FIFO): refused"
			}
			if !strings.Contains(r.err, want) {
				t.Errorf("stderr does not say %q:\n%.2000s", want, r.err)
			}
			if !strings.Contains(r.out, tc.wantOut) {
				t.Errorf("stdout does not contain %q:\n%s", tc.wantOut, r.out)
			}
		})
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
}

func link(t *testing.T, target, name string) {
	t.Helper()
	if err := os.Symlink(target, name); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
}

// BenchmarkInputMemory runs the estimate command on an input and reports the peak of its heap
// (live objects and garbage not yet collected, sampled every millisecond) over the input's size:
// 10,000 estimates in one file (4.5 MB) printed as JSON, and 16 MB of "---" lines (which took 3 GB
// before the document limit).
func BenchmarkInputMemory(b *testing.B) {
	dashes := filepath.Join(b.TempDir(), "dashes.yaml")
	if err := os.WriteFile(dashes, []byte(strings.Repeat("---\n", 4<<20)), 0o600); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name, path string
		code       int
	}{{"10k-estimates", writeEstimates(b, 10000), ExitOK}, {"16MB-of-dashes", dashes, ExitInput}} {
		b.Run(bc.name, func(b *testing.B) {
			info, err := os.Stat(bc.path)
			if err != nil {
				b.Fatal(err)
			}
			var peak uint64
			for range b.N {
				runtime.GC()
				sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
				stop, sampled := make(chan struct{}), make(chan uint64)
				go func() {
					var max uint64
					tick := time.NewTicker(time.Millisecond)
					defer tick.Stop()
					for {
						metrics.Read(sample)
						max = maxOf(max, sample[0].Value.Uint64())
						select {
						case <-stop:
							sampled <- max
							return
						case <-tick.C:
						}
					}
				}()
				var errOut strings.Builder
				code := Run([]string{"estimate", "-f", bc.path, "-o", "json"}, Streams{In: strings.NewReader(""), Out: io.Discard, Err: &errOut})
				close(stop)
				peak = maxOf(peak, <-sampled)
				if code != bc.code {
					b.Fatalf("exit %d, want %d: %.500s", code, bc.code, errOut.String())
				}
			}
			b.ReportMetric(float64(peak)/float64(info.Size()), "peak-heap-B/input-B")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}

func maxOf(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}
