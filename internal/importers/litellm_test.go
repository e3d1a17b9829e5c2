package importers

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLiteLLM(t *testing.T) {
	type prices struct{ in, out string }
	tests := map[string]struct {
		json              string
		provider          string
		want              map[string]prices
		issues            []string
		imported, skipped int
		err               string
	}{
		"good rows": {
			json: lines(`{`,
				`  "sample_spec": {"input_cost_per_token": 0.0, "output_cost_per_token": 0.0, "mode": "one of: chat, embedding"},`,
				`  "claude-3-5-sonnet": {"input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05, "litellm_provider": "anthropic", "mode": "chat"},`,
				`  "gpt-4o-mini": {"input_cost_per_token": 1.5e-07, "output_cost_per_token": 6e-07, "litellm_provider": "openai", "mode": "chat"},`,
				`  "davinci-002": {"input_cost_per_token": "0.000002", "output_cost_per_token": 0.000002, "litellm_provider": "text-completion-openai", "mode": "completion"},`,
				`  "text-embedding-3-small": {"input_cost_per_token": 2e-08, "output_cost_per_token": 0.0, "mode": "embedding"},`,
				`  "tts-1": {"input_cost_per_character": 1.5e-05, "mode": "audio_speech"},`,
				`  "no-mode": {"input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06},`,
				`  "per-second": {"input_cost_per_second": 0.0001, "output_cost_per_token": 1e-06, "mode": "chat"}`,
				`}`),
			want: map[string]prices{
				"claude-3-5-sonnet": {"3", "15"},
				"gpt-4o-mini":       {"0.15", "0.6"},
				"davinci-002":       {"2", "2"},
			},
			// Token-priced models of other modes are named once per mode; tts-1 (per character) and
			// per-second are not token-priced for both and go silently.
			issues: []string{
				`W skipped 1 models without a mode, priced per token but not chat, completion or responses (no-mode)`,
				`W skipped 1 models of mode "embedding", priced per token but not chat, completion or responses (text-embedding-3-small)`,
			},
			imported: 3, skipped: 4,
		},
		// A constructed row in LiteLLM's shape (mode "responses" is the Responses-API-only models'):
		// no upstream row of that mode is among testdata's.
		"responses mode is imported": {
			json: lines(`{`,
				`  "o1-pro": {"input_cost_per_token": 0.00015, "output_cost_per_token": 0.0006, "litellm_provider": "openai", "mode": "responses"}`,
				`}`),
			want:     map[string]prices{"o1-pro": {"150", "600"}},
			imported: 1,
		},
		"a mode summary names three and counts the rest": {
			json: lines(`{`,
				`  "chat-a": {"input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06, "mode": "chat"},`,
				`  "e1": {"input_cost_per_token": 1e-08, "mode": "embedding"},`,
				`  "e2": {"input_cost_per_token": 1e-08, "mode": "embedding"},`,
				`  "e3": {"input_cost_per_token": 1e-08, "mode": "embedding"},`,
				`  "e4": {"input_cost_per_token": 1e-08, "mode": "embedding"},`,
				`  "e5": {"input_cost_per_token": 1e-08, "mode": "embedding"}`,
				`}`),
			want:     map[string]prices{"chat-a": {"1", "1"}},
			issues:   []string{`W skipped 5 models of mode "embedding", priced per token but not chat, completion or responses (e1, e2, e3 and 2 more)`},
			imported: 1, skipped: 5,
		},
		"provider filter": {
			json: lines(`{`,
				`  "claude-3-5-sonnet": {"input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05, "litellm_provider": "anthropic", "mode": "chat"},`,
				`  "gpt-4o-mini": {"input_cost_per_token": 1.5e-07, "output_cost_per_token": 6e-07, "litellm_provider": "openai", "mode": "chat"},`,
				`  "gemini-pro": {"input_cost_per_token": 5e-07, "output_cost_per_token": 1.5e-06, "litellm_provider": "vertex_ai", "mode": "chat"}`,
				`}`),
			provider: "openai, anthropic",
			want:     map[string]prices{"claude-3-5-sonnet": {"3", "15"}, "gpt-4o-mini": {"0.15", "0.6"}},
			imported: 2, skipped: 1,
		},
		"each malformed kind, with its line": {
			json: lines(`{`,
				`  "good": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06, "mode": "chat"},`,
				`  "empty": {"input_cost_per_token": "", "output_cost_per_token": 2e-06, "mode": "chat"},`,
				`  "null": {"input_cost_per_token": 1e-06, "output_cost_per_token": null, "mode": "chat"},`,
				`  "text": {"input_cost_per_token": "abc", "output_cost_per_token": 2e-06, "mode": "chat"},`,
				`  "negative": {"input_cost_per_token": -1e-06, "output_cost_per_token": 2e-06, "mode": "chat"},`,
				`  "zero": {"input_cost_per_token": 0, "output_cost_per_token": 0.0, "mode": "chat"},`,
				`  "bool": {"input_cost_per_token": true, "output_cost_per_token": 2e-06, "mode": "chat"},`,
				`  "rounds to zero": {"input_cost_per_token": 1e-13, "output_cost_per_token": 2e-06, "mode": "chat"},`,
				`  "not an object": "chat",`,
				`  "a-name-that-is-much-longer-than-the-sixty-three-characters-allowed-by-the-crd": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06, "mode": "chat"}`,
				`}`),
			want: map[string]prices{"good": {"1", "2"}},
			issues: []string{
				`line 3: "empty": input_cost_per_token: empty; skipped`,
				`line 4: "null": output_cost_per_token: empty; skipped`,
				`line 5: "text": input_cost_per_token: "abc" is not a number; skipped`,
				`line 6: "negative": input_cost_per_token: -1e-06 is negative; skipped`,
				`line 7: "zero": input_cost_per_token: 0 is zero; skipped`,
				`line 7: "zero": output_cost_per_token: 0.0 is zero; skipped`,
				`line 8: "bool": input_cost_per_token: true is not a number; skipped`,
				`line 9: "rounds to zero": input_cost_per_token: 1e-13 rounds to 0 at 6 decimals; skipped`,
				`line 10: "not an object": not a JSON object; skipped`,
				`line 11: "a-name-that-is-much-longer-than-the-sixty-three-characters-allowed-by-the-crd": name is longer than 63 characters; skipped`,
			},
			imported: 1, skipped: 9,
		},
		"duplicate key keeps the first": {
			json: lines(`{`,
				`  "gpt-4o": {"input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05, "mode": "chat"},`,
				`  "gpt-4o": {"input_cost_per_token": 5e-06, "output_cost_per_token": 1.5e-05, "mode": "chat"}`,
				`}`),
			want:     map[string]prices{"gpt-4o": {"2.5", "10"}},
			issues:   []string{`line 3: "gpt-4o": duplicate key (the first one is used); skipped`},
			imported: 1, skipped: 1,
		},
		"exact decimals and rounding beyond 6 decimals": {
			json: lines(`{`,
				`  "tiny": {"input_cost_per_token": 1.5e-07, "output_cost_per_token": 1.25e-12, "mode": "chat"},`,
				`  "long": {"input_cost_per_token": 1.2345665e-06, "output_cost_per_token": 0.00000123456649, "mode": "chat"},`,
				`  "float-trap": {"input_cost_per_token": 0.0000001, "output_cost_per_token": 3.3e-05, "mode": "chat"}`,
				`}`),
			want: map[string]prices{
				"tiny":       {"0.15", "0.000001"},
				"long":       {"1.234567", "1.234566"},
				"float-trap": {"0.1", "33"},
			},
			issues: []string{
				`W line 2: "tiny": output_cost_per_token: 1.25e-12 per token is 0.000001 per million tokens, rounded to 6 decimals`,
				`W line 3: "long": input_cost_per_token: 1.2345665e-06 per token is 1.234567 per million tokens, rounded to 6 decimals`,
				`W line 3: "long": output_cost_per_token: 0.00000123456649 per token is 1.234566 per million tokens, rounded to 6 decimals`,
			},
			imported: 3,
		},
		"not JSON":        {json: "model,price\n", err: "not JSON"},
		"not an object":   {json: `["gpt-4o"]`, err: "not a JSON object"},
		"truncated":       {json: lines(`{`, `  "gpt-4o": {"input_cost_per_token": 1e-06,`), err: "line 2"},
		"nothing to take": {json: `{"e": {"input_cost_per_token": 1e-06, "output_cost_per_token": 0, "mode": "embedding"}}`, err: ErrNothingImported.Error()},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			o := testOptions
			o.Provider = tc.provider
			r, err := LiteLLM([]byte(tc.json), o)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]prices{}
			for _, a := range r.APIModels {
				got[a.Name] = prices{string(a.InputPricePerMillionTokens), string(a.OutputPricePerMillionTokens)}
				if a.Source != "test-file" || a.EffectiveDate != "2026-11-01" {
					t.Errorf("%s: provenance %+v", a.Name, a.Provenance)
				}
			}
			if d := cmp.Diff(tc.want, got, cmp.AllowUnexported(prices{})); d != "" {
				t.Errorf("API models (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.issues, issues(r)); d != "" {
				t.Errorf("issues (-want +got):\n%s", d)
			}
			if r.Imported != tc.imported || r.Skipped != tc.skipped {
				t.Errorf("imported %d, skipped %d; want %d, %d", r.Imported, r.Skipped, tc.imported, tc.skipped)
			}
			checkValid(t, r.Spec())
		})
	}
}

func TestLiteLLMFile(t *testing.T) {
	data, err := os.ReadFile("testdata/model_prices_and_context_window.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := LiteLLM(data, testOptions)
	if err != nil && !errors.Is(err, ErrNothingImported) {
		t.Fatal(err)
	}
	if err != nil || r.Imported == 0 {
		t.Fatalf("nothing imported: %v", err)
	}
	checkValid(t, r.Spec())
}

// TestLiteLLMUpstreamRows imports rows copied verbatim from LiteLLM's file (testdata/README.md):
// chat and completion models priced per token are imported at their per-million prices; an image
// model (per pixel), a search model (per query) and a rerank model priced 0 per token are skipped
// without a line of noise each.
func TestLiteLLMUpstreamRows(t *testing.T) {
	data, err := os.ReadFile("testdata/litellm-upstream-rows.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := LiteLLM(data, Options{Source: "litellm", EffectiveDate: "2026-12-02"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]string{}
	for _, a := range r.APIModels {
		got[a.Name] = [2]string{string(a.InputPricePerMillionTokens), string(a.OutputPricePerMillionTokens)}
	}
	want := map[string][2]string{
		"ai21.j2-mid-v1":                    {"12.5", "12.5"},
		"nebius/Qwen/Qwen3-4B":              {"0.08", "0.24"},
		"palm/text-bison":                   {"0.125", "0.125"},
		"sambanova/Qwen2-Audio-7B-Instruct": {"0.5", "100"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("API models (-want +got):\n%s", diff)
	}
	if r.Imported != 4 || r.Skipped != 3 || len(r.Issues) != 0 {
		t.Errorf("imported %d, skipped %d, issues %v: want 4, 3 and none", r.Imported, r.Skipped, r.Issues)
	}
}
