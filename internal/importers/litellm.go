package importers

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

// LiteLLM reads LiteLLM's model_prices_and_context_window.json: an object keyed by model name whose
// values carry input_cost_per_token, output_cost_per_token (USD per token), litellm_provider and mode.
// Each model of a mode ftcost compares with fine-tuning (chat, completion, and responses: OpenAI's
// Responses-API-only models, billed per token as chat is) with both prices becomes an API model named
// by its key, priced per million tokens. Models of other modes that are priced per token (embedding,
// rerank, moderation, audio, ...) are skipped and named once per mode in a summary Issue, not one line
// each; entries priced otherwise (per image, pixel, query, second) or without both prices are counted
// as skipped silently. The "sample_spec" key is documentation. Malformed prices are reported and
// skipped. o.Provider, when set, keeps only the listed litellm_provider values (comma-separated).
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
	otherModes := map[string][]string{} // mode -> token-priced models skipped
	for _, d := range dups {
		r.Skipped++
		r.skip(d.line, d.key, "duplicate key (the first one is used); skipped")
	}
	for _, m := range members {
		if m.key == "sample_spec" {
			continue
		}
		a, ok := r.liteLLMEntry(m, keep, o, otherModes)
		if !ok {
			r.Skipped++
			continue
		}
		r.Imported++
		r.APIModels = append(r.APIModels, a)
	}
	sortByName(r.APIModels, func(a ftv1.CatalogAPIModel) string { return a.Name })
	for _, mode := range slices.Sorted(maps.Keys(otherModes)) {
		names := otherModes[mode]
		shown := names
		if len(shown) > 3 {
			shown = shown[:3]
		}
		more := ""
		if len(names) > len(shown) {
			more = fmt.Sprintf(" and %d more", len(names)-len(shown))
		}
		label := fmt.Sprintf("of mode %q", mode)
		if mode == "" {
			label = "without a mode"
		}
		r.Issues = append(r.Issues, Issue{Warning: true, Message: fmt.Sprintf("skipped %d models %s, priced per token but not chat, completion or responses (%s%s)",
			len(names), label, strings.Join(shown, ", "), more)})
	}
	if r.Imported == 0 {
		return r, fmt.Errorf("%w: no chat, completion or responses model with both prices", ErrNothingImported)
	}
	return r, nil
}

// LiteLLMModes are the modes whose models are imported: what an application pays an API for.
var LiteLLMModes = []string{"chat", "completion", "responses"}

func (r *Result) liteLLMEntry(m member, keep map[string]bool, o Options, otherModes map[string][]string) (ftv1.CatalogAPIModel, bool) {
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
	if mode, _ := scalarText(f["mode"]); !slices.Contains(LiteLLMModes, mode) {
		in, inMissing, _ := fieldPrice(f, "input_cost_per_token")
		out, outMissing, _ := fieldPrice(f, "output_cost_per_token")
		if (!inMissing && positive(in)) || (!outMissing && positive(out)) {
			otherModes[mode] = append(otherModes[mode], m.key)
		}
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

// positive says whether a price's text is a number greater than zero.
func positive(text string) bool {
	d, err := decimal.NewFromString(strings.TrimSpace(text))
	return err == nil && d.IsPositive()
}
