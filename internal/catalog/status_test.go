package catalog

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
)

func builtinPC() *ftv1.PriceCatalog {
	pc := FromEngine(engine.BuiltinCatalog(), "default")
	pc.Generation = 4
	return pc
}

func dec(s string) *ftv1.Decimal { v := ftv1.Decimal(s); return &v }

func provider(pc *ftv1.PriceCatalog, name string) *ftv1.CatalogProvider {
	for i := range pc.Spec.Providers {
		if pc.Spec.Providers[i].Name == name {
			return &pc.Spec.Providers[i]
		}
	}
	panic(name)
}

func TestValidateCatalog(t *testing.T) {
	cases := map[string]struct {
		mutate func(*ftv1.PriceCatalog)
		want   []string // substrings, one per expected error
	}{
		"built-in catalog is valid": {mutate: func(*ftv1.PriceCatalog) {}},
		"price for a GPU the catalog lacks": {
			mutate: func(pc *ftv1.PriceCatalog) {
				p := provider(pc, "runpod")
				p.GPUPrices = append(p.GPUPrices, ftv1.GPUPrice{GPUType: "B200", PricePerGPUHour: "5.99"})
			},
			want: []string{`spec.providers[5].gpuPrices[5].gpuType: Not found: "B200"`},
		},
		"default GPU not priced": {
			mutate: func(pc *ftv1.PriceCatalog) { provider(pc, "runpod").DefaultGPU = "A100" },
			want:   []string{`spec.providers[5].defaultGPU: Invalid value: "A100"`},
		},
		"duplicate model": {
			mutate: func(pc *ftv1.PriceCatalog) { pc.Spec.Models = append(pc.Spec.Models, pc.Spec.Models[0]) },
			want:   []string{fmt.Sprintf(`spec.models[%d].name: Duplicate value: "llama-13b"`, len(engine.BuiltinCatalog().Models))},
		},
		"zero scale factor would price training at nothing": {
			mutate: func(pc *ftv1.PriceCatalog) { pc.Spec.Models[0].ScaleFactor = "0" },
			want:   []string{`spec.models[0].scaleFactor: Invalid value: "0"`},
		},
		"managed provider without models or serving model": {
			mutate: func(pc *ftv1.PriceCatalog) {
				p := provider(pc, "openai-gpt-4")
				p.Models, p.ServingAPIModel = nil, "gpt-9-finetuned"
			},
			want: []string{`spec.providers[4].models: Required value`, `spec.providers[4].servingAPIModel: Not found: "gpt-9-finetuned"`},
		},
		// Stored before the schema refused them (or written around it): the controller reads the
		// catalog and says what is wrong instead of failing to decode it.
		"maxAge in days": {
			mutate: func(pc *ftv1.PriceCatalog) { pc.Spec.MaxAge = ptr.To[ftv1.Duration]("30d") },
			want:   []string{`spec.maxAge: Invalid value: "30d": must be a duration such as 720h`},
		},
		"maxAge forever": {
			mutate: func(pc *ftv1.PriceCatalog) { pc.Spec.MaxAge = ptr.To[ftv1.Duration]("forever") },
			want:   []string{`spec.maxAge: Invalid value: "forever"`},
		},
		"maxAge that overflows": {
			mutate: func(pc *ftv1.PriceCatalog) { pc.Spec.MaxAge = ptr.To[ftv1.Duration]("99999999999h") },
			want:   []string{`spec.maxAge: Invalid value: "99999999999h"`},
		},
		"effectiveDate that is no date": {
			mutate: func(pc *ftv1.PriceCatalog) { provider(pc, "runpod").EffectiveDate = "2025-02-30" },
			want:   []string{`spec.providers[5].effectiveDate: Invalid value: "2025-02-30": must be a real date`},
		},
		"training-token price on a GPU provider": {
			mutate: func(pc *ftv1.PriceCatalog) { provider(pc, "runpod").PricePerMillionTrainingTokens = dec("1") },
			want:   []string{`spec.providers[5].pricePerMillionTrainingTokens: Forbidden`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pc := builtinPC()
			tc.mutate(pc)
			errs := Validate(pc)
			if len(errs) != len(tc.want) {
				t.Fatalf("got %d errors, want %d: %v", len(errs), len(tc.want), errs)
			}
			for i, w := range tc.want {
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("error %d = %q, want it to contain %q", i, errs[i].Error(), w)
				}
			}
		})
	}
}

func TestCatalogStatus(t *testing.T) {
	day := func(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }
	cases := map[string]struct {
		maxAge      *ftv1.Duration
		now         time.Time
		wantStale   bool
		wantRecheck time.Duration
	}{
		"no maxAge never stale":        {nil, day("2030-01-01"), false, 0},
		"fresh: recheck when it ages":  {ptr.To[ftv1.Duration]("8760h"), day("2025-06-02"), false, 365 * 24 * time.Hour},
		"stale once older than maxAge": {ptr.To[ftv1.Duration]("24h"), day("2025-06-03"), true, 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pc := builtinPC()
			pc.Spec.MaxAge = tc.maxAge
			s, recheck := Status(pc, tc.now)
			want := []int32{int32(len(pc.Spec.Models)), int32(len(pc.Spec.GPUs)), int32(len(pc.Spec.Providers)), int32(len(pc.Spec.APIModels))}
			if got := []int32{s.Models, s.GPUs, s.Providers, s.APIModels}; !slices.Equal(got, want) {
				t.Errorf("counts = %v, want %v", got, want)
			}
			// The oldest price is xAI's Grok 3 list price; GPU datasheets are older but do not age.
			if s.OldestEffectiveDate != "2025-06-02" {
				t.Errorf("oldest = %s, want 2025-06-02", s.OldestEffectiveDate)
			}
			if !meta.IsStatusConditionTrue(s.Conditions, ftv1.ConditionReady) {
				t.Errorf("Ready is not True: %+v", s.Conditions)
			}
			stale := meta.FindStatusCondition(s.Conditions, ftv1.ConditionStale)
			if tc.wantStale != (stale != nil) {
				t.Fatalf("Stale = %+v, want present=%v (present only while True)", stale, tc.wantStale)
			}
			if stale != nil && (stale.Status != metav1.ConditionTrue || !strings.Contains(stale.Message, "API model grok-3")) {
				t.Errorf("Stale = %+v", stale)
			}
			if recheck != tc.wantRecheck {
				t.Errorf("recheck = %s, want %s", recheck, tc.wantRecheck)
			}
		})
	}
	// An unreadable maxAge makes Ready False and never Stale.
	pc := builtinPC()
	pc.Spec.MaxAge = ptr.To[ftv1.Duration]("1y")
	s, recheck := Status(pc, day("2030-01-01"))
	if c := meta.FindStatusCondition(s.Conditions, ftv1.ConditionReady); c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "spec.maxAge") {
		t.Errorf("Ready = %+v, want False naming spec.maxAge", c)
	}
	if meta.FindStatusCondition(s.Conditions, ftv1.ConditionStale) != nil || recheck != 0 {
		t.Errorf("Stale = %+v, recheck %s; want neither", s.Conditions, recheck)
	}
	// Invalid entries make Ready False with the field named.
	pc = builtinPC()
	provider(pc, "runpod").DefaultGPU = "A100"
	s, _ = Status(pc, day("2026-01-01"))
	c := meta.FindStatusCondition(s.Conditions, ftv1.ConditionReady)
	if c.Status != metav1.ConditionFalse || c.Reason != ftv1.ReasonInvalidEntries || !strings.Contains(c.Message, "spec.providers[5].defaultGPU") {
		t.Errorf("Ready = %+v", c)
	}
}

// A Stale catalog's status recomputed later (a restart, a resync, another reconcile) is the status
// it has: Stale keeps the time it turned stale, so there is nothing to write. Stale turns True at
// the reconciler's clock, and is gone once the prices are fresh.
func TestStaleKeepsItsTransitionTime(t *testing.T) {
	day := func(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }
	pc := builtinPC()
	pc.Spec.MaxAge = ptr.To[ftv1.Duration]("24h")
	turned := day("2025-06-03")
	s, _ := Status(pc, turned)
	stale := meta.FindStatusCondition(s.Conditions, ftv1.ConditionStale)
	if stale == nil || !stale.LastTransitionTime.Time.Equal(turned) {
		t.Fatalf("Stale = %+v, want True since %v", stale, turned)
	}
	for _, later := range []time.Time{day("2025-06-04"), day("2026-01-01")} {
		pc.Status = *s.DeepCopy()
		again, _ := Status(pc, later)
		if diff := cmp.Diff(pc.Status, *again); diff != "" {
			t.Errorf("recomputed at %v, the status changed (-stored +recomputed):\n%s", later, diff)
		}
	}
	// Fresh again: Stale goes; stale again later: a new transition at that time.
	pc.Status = *s.DeepCopy()
	pc.Spec.MaxAge = ptr.To[ftv1.Duration]("876000h")
	s, _ = Status(pc, day("2026-01-01"))
	if c := meta.FindStatusCondition(s.Conditions, ftv1.ConditionStale); c != nil {
		t.Errorf("Stale = %+v after maxAge grew, want none", c)
	}
	pc.Status, pc.Spec.MaxAge = *s.DeepCopy(), ptr.To[ftv1.Duration]("24h")
	s, _ = Status(pc, day("2026-02-01"))
	if c := meta.FindStatusCondition(s.Conditions, ftv1.ConditionStale); c == nil || !c.LastTransitionTime.Time.Equal(day("2026-02-01")) {
		t.Errorf("Stale = %+v, want True since 2026-02-01", c)
	}
}
