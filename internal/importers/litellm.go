package importers

import (
	"fmt"
	"strings"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

// LiteLLM reads LiteLLM's model_prices_and_context_window.json: an object keyed by model name whose
// values carry input_cost_per_token, output_cost_per_token (USD per token), litellm_provider and mode.
// Each chat or completion model with both prices becomes an API model named by its key, priced per
// million tokens. The "sample_spec" key is documentation and is skipped, as are other modes and
// entries without both prices (counted, not reported); malformed prices are reported and skipped.
// o.Provider, when set, keeps only the listed litellm_provider values (comma-separated).
func LiteLLM(data []byte, o Options) (*Result, error) {
	members, dups, err := objectMembers(data)
	if err != nil {
		return nil, err
	}
	keep := map[string]bool{}
	for _, p := range strings.Split(o.Provider, ",") {
		if p = strings.TrimSpace(p); p != "" {
			keep[p] = true
		}
	}
	r := &Result{}
	for _, d := range dups {
		r.Skipped++
		r.skip(d.line, d.key, "duplicate key (the first one is used); skipped")
	}
	for _, m := range members {
		if m.key == "sample_spec" {
			continue
		}
		a, ok := r.liteLLMEntry(m, keep, o)
		if !ok {
			r.Skipped++
			continue
		}
		r.Imported++
		r.APIModels = append(r.APIModels, a)
	}
	sortByName(r.APIModels, func(a ftv1.CatalogAPIModel) string { return a.Name })
	if r.Imported == 0 {
		return r, fmt.Errorf("%w: no chat or completion model with both prices", ErrNothingImported)
	}
	return r, nil
}

func (r *Result) liteLLMEntry(m member, keep map[string]bool, o Options) (ftv1.CatalogAPIModel, bool) {
	var a ftv1.CatalogAPIModel
	f, err := fields(m.value)
	if err != nil {
		r.skip(m.line, m.key, "%v; skipped", err)
		return a, false
	}
	if len(keep) > 0 {
		provider, _ := scalarText(f["litellm_provider"])
		if !keep[provider] {
			return a, false
		}
	}
	if mode, _ := scalarText(f["mode"]); mode != "chat" && mode != "completion" {
		return a, false
	}
	in, inMissing, inErr := fieldPrice(f, "input_cost_per_token")
	out, outMissing, outErr := fieldPrice(f, "output_cost_per_token")
	if inMissing || outMissing {
		return a, false // priced otherwise (per character, per second, ...) or not at all
	}
	var prices [2]price
	bad := false
	for i, p := range []struct {
		field, text string
		err         error
	}{{"input_cost_per_token", in, inErr}, {"output_cost_per_token", out, outErr}} {
		if p.err == nil {
			prices[i], p.err = convert(p.text, million, one)
		}
		if p.err != nil {
			r.skip(m.line, m.key, "%s: %v; skipped", p.field, p.err)
			bad = true
			continue
		}
		if prices[i].lost {
			r.warn(m.line, m.key, "%s: %s per token is %s per million tokens, rounded to %d decimals", p.field, p.text, prices[i], Decimals)
		}
	}
	if bad {
		return a, false
	}
	if len(m.key) > 63 {
		r.skip(m.line, m.key, "name is longer than 63 characters; skipped")
		return a, false
	}
	if m.key == "" {
		r.skip(m.line, m.key, "empty name; skipped")
		return a, false
	}
	return ftv1.CatalogAPIModel{Name: m.key, InputPricePerMillionTokens: ftv1.Decimal(prices[0].String()),
		OutputPricePerMillionTokens: ftv1.Decimal(prices[1].String()), Provenance: o.provenance()}, true
}
