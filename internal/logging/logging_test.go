package logging

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// counted records how often it was encoded.
type counted struct{ n *int }

func (c counted) String() string { *c.n++; return "fte-1" }

// A logger with nested WithValues writes the same line as zap's eager one, and encodes the values
// only when it writes.
func TestLazyWritesTheSameLines(t *testing.T) {
	var eager, lazy bytes.Buffer
	var encodedEager, encodedLazy int
	e := zap.New(zap.WriteTo(&eager), zap.UseDevMode(false)).WithName("c").
		WithValues("FineTuneEstimate", counted{&encodedEager}).WithValues("reconcileID", "r1")
	z := New(zap.WriteTo(&lazy), zap.UseDevMode(false)).WithName("c").
		WithValues("FineTuneEstimate", counted{&encodedLazy}).WithValues("reconcileID", "r1")
	if encodedEager != 1 || encodedLazy != 0 {
		t.Fatalf("before logging: encoded %d times eagerly, %d times lazily; want 1 and 0", encodedEager, encodedLazy)
	}
	e.V(1).Info("not written at the default level")
	z.V(1).Info("not written at the default level")
	if encodedLazy != 0 {
		t.Errorf("a line below the level encoded the fields (%d times)", encodedLazy)
	}
	e.Info("Estimated", "upfront", "1001.25")
	z.Info("Estimated", "upfront", "1001.25")
	z.Info("again")
	if encodedLazy != 1 {
		t.Errorf("lazy fields encoded %d times for two lines, want once", encodedLazy)
	}
	first := func(b *bytes.Buffer) map[string]any {
		var m map[string]any
		line, _, _ := bytes.Cut(b.Bytes(), []byte("\n"))
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		delete(m, "ts")
		return m
	}
	if d := cmp.Diff(first(&eager), first(&lazy)); d != "" {
		t.Errorf("the lazy logger wrote another line (-eager +lazy):\n%s", d)
	}
}
