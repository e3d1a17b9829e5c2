package catalog

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/conditions"
)

// MaxAge parses spec.maxAge; 0 and no error when it is omitted. The schema refuses what does not
// parse, but a catalog stored before it did (or written around it) must not stop the controller.
func MaxAge(pc *ftv1.PriceCatalog) (time.Duration, error) {
	if pc.Spec.MaxAge == nil {
		return 0, nil
	}
	d, err := time.ParseDuration(string(*pc.Spec.MaxAge))
	switch {
	case err != nil:
		return 0, fmt.Errorf("must be a duration such as 720h (hours, minutes, seconds; no days or years)")
	case d < 0:
		return 0, fmt.Errorf("must not be negative")
	}
	return d, nil
}

// Status computes a PriceCatalog's status at now: counts, Ready (Valid or InvalidEntries), and
// Stale while the oldest effectiveDate is older than spec.maxAge. recheck is when the catalog turns
// stale if nothing changes (0: never, or already stale).
func Status(pc *ftv1.PriceCatalog, now time.Time) (status *ftv1.PriceCatalogStatus, recheck time.Duration) {
	s := &ftv1.PriceCatalogStatus{
		ObservedGeneration: pc.Generation,
		Models:             int32(len(pc.Spec.Models)),
		GPUs:               int32(len(pc.Spec.GPUs)),
		Providers:          int32(len(pc.Spec.Providers)),
		APIModels:          int32(len(pc.Spec.APIModels)),
		Conditions:         slices.Clone(pc.Status.Conditions),
	}
	set := conditions.Setter(&s.Conditions, pc.Generation)
	if errs := Validate(pc); len(errs) > 0 {
		set(ftv1.ConditionReady, metav1.ConditionFalse, ftv1.ReasonInvalidEntries, errs.ToAggregate().Error())
	} else {
		set(ftv1.ConditionReady, metav1.ConditionTrue, ftv1.ReasonValid,
			fmt.Sprintf("%d models, %d GPU types, %d providers, %d API models", s.Models, s.GPUs, s.Providers, s.APIModels))
	}

	oldest, names := oldestEntries(pc)
	if !oldest.IsZero() {
		s.OldestEffectiveDate = oldest.Format(time.DateOnly)
	}
	// Stale is present only while True. It is set over the previous one, never dropped and added
	// again, so a recomputed status equals the stored one (its lastTransitionTime included) and a
	// restart or resync writes nothing.
	notStale := func(recheck time.Duration) (*ftv1.PriceCatalogStatus, time.Duration) {
		meta.RemoveStatusCondition(&s.Conditions, ftv1.ConditionStale)
		return s, recheck
	}
	maxAge, err := MaxAge(pc)
	if pc.Spec.MaxAge == nil || err != nil || oldest.IsZero() {
		return notStale(0) // an unreadable maxAge already makes the catalog Ready=False
	}
	staleAt := oldest.Add(maxAge)
	if now.Before(staleAt) {
		return notStale(staleAt.Sub(now))
	}
	was := meta.FindStatusCondition(s.Conditions, ftv1.ConditionStale)
	turned := was == nil || was.Status != metav1.ConditionTrue
	set(ftv1.ConditionStale, metav1.ConditionTrue, ftv1.ReasonPricesOutdated,
		fmt.Sprintf("effectiveDate %s of %s is older than maxAge %s", s.OldestEffectiveDate, strings.Join(names, ", "), maxAge))
	if turned {
		// It turned stale now, by the reconciler's clock.
		meta.FindStatusCondition(s.Conditions, ftv1.ConditionStale).LastTransitionTime = metav1.NewTime(now)
	}
	return s, 0
}

// oldestEntries is the oldest effectiveDate of the catalog's prices (providers and API models) and
// the entries that carry it (at most 5). Models and GPUs are specifications, not prices: they do not age.
func oldestEntries(pc *ftv1.PriceCatalog) (time.Time, []string) {
	var oldest time.Time
	var names []string
	visit := func(kind, name string, p ftv1.Provenance) {
		t, err := time.Parse(time.DateOnly, p.EffectiveDate)
		if err != nil {
			return
		}
		switch {
		case oldest.IsZero() || t.Before(oldest):
			oldest, names = t, []string{kind + " " + name}
		case t.Equal(oldest) && len(names) < 5:
			names = append(names, kind+" "+name)
		}
	}
	for _, p := range pc.Spec.Providers {
		visit("provider", p.Name, p.Provenance)
	}
	for _, a := range pc.Spec.APIModels {
		visit("API model", a.Name, a.Provenance)
	}
	return oldest, names
}
