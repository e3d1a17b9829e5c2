package importers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// member is one key of a JSON object with its raw value and the line the key is on.
type member struct {
	key   string
	line  int
	value json.RawMessage
}

// objectMembers reads data as one JSON object and returns its members in file order. A key that
// appears twice is returned once, first occurrence kept; dups holds the later ones.
func objectMembers(data []byte) (members, dups []member, err error) {
	lines := lineStarts(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, fmt.Errorf("not JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, errors.New("not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: %w", lineOf(lines, dec.InputOffset()), err)
		}
		key, _ := tok.(string)
		// The offset is just past the key; the key is on the line of its closing quote.
		m := member{key: key, line: lineOf(lines, dec.InputOffset()-1)}
		if err := dec.Decode(&m.value); err != nil {
			return nil, nil, fmt.Errorf("line %d: key %q: %w", m.line, key, err)
		}
		if seen[key] {
			dups = append(dups, m)
			continue
		}
		seen[key] = true
		members = append(members, m)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("line %d: %w", lineOf(lines, dec.InputOffset()), err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("line %d: data after the JSON object", lineOf(lines, dec.InputOffset()))
	}
	return members, dups, nil
}

// lineStarts are the offsets at which lines start.
func lineStarts(data []byte) []int {
	starts := []int{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// lineOf is the 1-based line of offset.
func lineOf(starts []int, offset int64) int {
	return sort.Search(len(starts), func(i int) bool { return int64(starts[i]) > offset })
}

// scalarText is a JSON number's literal text or a JSON string's content, exactly as written; ok is
// false for null, objects, arrays and booleans.
func scalarText(raw json.RawMessage) (text string, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false
		}
		return s, true
	case 'n', 't', 'f', '{', '[':
		return "", false
	}
	return string(raw), true
}

// fields decodes a JSON object's fields without converting numbers.
func fields(raw json.RawMessage) (map[string]json.RawMessage, error) {
	var f map[string]json.RawMessage
	if err := json.Unmarshal(raw, &f); err != nil || f == nil {
		return nil, errors.New("not a JSON object")
	}
	return f, nil
}

// fieldPrice is the text of a price field: missing is true when the field is absent.
func fieldPrice(f map[string]json.RawMessage, name string) (text string, missing bool, err error) {
	raw, ok := f[name]
	if !ok {
		return "", true, nil
	}
	text, ok = scalarText(raw)
	if !ok {
		if strings.TrimSpace(string(raw)) == "null" {
			return "", false, errors.New("empty")
		}
		return "", false, fmt.Errorf("%s is not a number", strings.TrimSpace(string(raw)))
	}
	return text, false, nil
}
