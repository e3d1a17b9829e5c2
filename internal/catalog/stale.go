package catalog

import (
	"fmt"
	"strings"
	"time"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

// Kinds of priced catalog entries, as the Stale messages name them.
const (
	EntryProvider = "provider"
	EntryAPIModel = "API model"
)

// PriceRef names one priced entry of a catalog: a provider or an API model.
type PriceRef struct {
	Kind, Name string
}

func (r PriceRef) String() string { return r.Kind + " " + r.Name }

// Staleness is how old the prices an estimate uses are, against the catalog's spec.maxAge.
type Staleness struct {
	// Stale names the used entries whose effectiveDate is older than maxAge, with their dates.
	Stale []string
	// MaxAge is the catalog's spec.maxAge.
	MaxAge time.Duration
	// Recheck is when the next used entry turns stale if nothing changes; 0 when none will (no
	// maxAge, no dates, or every dated one is stale already).
	Recheck time.Duration
}

// Message says which prices are stale: "effectiveDate 2025-06-02 of API model grok-3 is older
// than maxAge 24h0m0s".
func (s Staleness) Message() string {
	return fmt.Sprintf("%s older than maxAge %s", strings.Join(s.Stale, "; "), s.MaxAge)
}

// StalePrices judges the entries of pc that an estimate uses at now: only those, not the whole
// catalog, so one old price of a model nobody uses does not hold everybody's training. Entries
// that do not exist or carry no readable effectiveDate never age; an unreadable maxAge makes the
// catalog invalid already, and ages nothing here.
func StalePrices(pc *ftv1.PriceCatalog, used []PriceRef, now time.Time) Staleness {
	maxAge, err := MaxAge(pc)
	if pc.Spec.MaxAge == nil || err != nil {
		return Staleness{}
	}
	s := Staleness{MaxAge: maxAge}
	for _, ref := range used {
		date := effectiveDate(pc, ref)
		t, err := time.Parse(time.DateOnly, date)
		if err != nil {
			continue
		}
		staleAt := t.Add(maxAge)
		if !now.Before(staleAt) {
			s.Stale = append(s.Stale, fmt.Sprintf("effectiveDate %s of %s is", date, ref))
			continue
		}
		if wait := staleAt.Sub(now); s.Recheck == 0 || wait < s.Recheck {
			s.Recheck = wait
		}
	}
	return s
}

func effectiveDate(pc *ftv1.PriceCatalog, ref PriceRef) string {
	switch ref.Kind {
	case EntryProvider:
		for i := range pc.Spec.Providers {
			if pc.Spec.Providers[i].Name == ref.Name {
				return pc.Spec.Providers[i].EffectiveDate
			}
		}
	case EntryAPIModel:
		for i := range pc.Spec.APIModels {
			if pc.Spec.APIModels[i].Name == ref.Name {
				return pc.Spec.APIModels[i].EffectiveDate
			}
		}
	}
	return ""
}
