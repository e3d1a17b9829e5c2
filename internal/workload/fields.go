package workload

import (
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

// Reading unstructured objects without trusting them.

func outcomeOf(succeeded bool) ftv1.RunOutcome {
	if succeeded {
		return ftv1.RunSucceeded
	}
	return ftv1.RunFailed
}

// trueCondition is the first status.conditions entry of one of types whose status is "True", with
// its lastTransitionTime; false when there is none or it has no readable time.
func trueCondition(u *unstructured.Unstructured, types ...string) (string, time.Time, bool) {
	conds, _ := sliceAt(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		typ, _ := m["type"].(string)
		if m["status"] != "True" || !slices.Contains(types, typ) {
			continue
		}
		if t := timeAt(m, "lastTransitionTime"); t != nil {
			return typ, t.Time, true
		}
	}
	return "", time.Time{}, false
}

// resumedOrCreated is when the workload's Suspended condition last turned False (it was released),
// else its creation.
func resumedOrCreated(u *unstructured.Unstructured) *metav1.Time {
	conds, _ := sliceAt(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Suspended" && m["status"] == "False" {
			if t := timeAt(m, "lastTransitionTime"); t != nil {
				return t
			}
		}
	}
	if c := u.GetCreationTimestamp(); !c.IsZero() {
		return &c
	}
	return nil
}

// timeAt is the RFC 3339 time at path; nil when missing, not a string, or not a time.
func timeAt(obj map[string]any, path ...string) *metav1.Time {
	s, ok := fieldAt(obj, path...).(string)
	if !ok {
		return nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil
	}
	return &metav1.Time{Time: t}
}

// fieldAt is the value at path, nil when any step is missing or not an object.
func fieldAt(obj map[string]any, path ...string) any {
	var v any = obj
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func mapAt(obj map[string]any, path ...string) (map[string]any, bool) {
	m, ok := fieldAt(obj, path...).(map[string]any)
	return m, ok
}

func sliceAt(obj map[string]any, path ...string) ([]any, bool) {
	s, ok := fieldAt(obj, path...).([]any)
	return s, ok
}

// intField is the whole number at path (JSON decodes numbers as int64 or float64); false when
// missing or not a whole number.
func intField(obj map[string]any, path ...string) (int64, bool) {
	switch n := fieldAt(obj, path...).(type) {
	case int64:
		return n, true
	case int32:
		return int64(n), true
	case int:
		return int64(n), true
	case float64:
		if n == float64(int64(n)) {
			return int64(n), true
		}
	}
	return 0, false
}

// intAt is intField with a default for a missing field, never negative.
func intAt(obj map[string]any, def int64, path ...string) int64 {
	n, ok := intField(obj, path...)
	if !ok {
		return def
	}
	return max(n, 0)
}

// maxCount bounds every count read from an unstructured spec (replicas, GPUs), so that no malformed
// spec overflows a product or a sum: a million GPUs is more than any cluster holds.
const maxCount = 1 << 20

// count is the product of factors, each and the result clamped to 0..maxCount.
func count(factors ...int64) int64 {
	n := int64(1)
	for _, f := range factors {
		n *= min(max(f, 0), maxCount)
		n = min(n, maxCount)
	}
	return n
}

func quantityAt(obj map[string]any, path ...string) (int64, bool) {
	switch v := fieldAt(obj, path...).(type) {
	case string:
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return 0, false
		}
		return q.Value(), true
	case nil:
		return 0, false
	default:
		return intField(map[string]any{"v": v}, "v")
	}
}

// FieldValues are the values at a dotted path of ScaleFields ("[*]": every item of a list, "*":
// every value of a map); none when a step is missing.
func FieldValues(obj map[string]any, path string) []any {
	vals := []any{obj}
	for _, step := range strings.Split(path, ".") {
		each := strings.HasSuffix(step, "[*]")
		step = strings.TrimSuffix(step, "[*]")
		var next []any
		for _, v := range vals {
			m, ok := v.(map[string]any)
			if !ok {
				continue
			}
			if step == "*" {
				for _, k := range sortedKeys(m) {
					next = append(next, m[k])
				}
				continue
			}
			if f, ok := m[step]; ok {
				next = append(next, f)
			}
		}
		if each {
			var items []any
			for _, v := range next {
				if s, ok := v.([]any); ok {
					items = append(items, s...)
				}
			}
			next = items
		}
		vals = next
	}
	return vals
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
