// Package crd embeds the generated CustomResourceDefinitions, so the ftcost CLI validates offline
// against exactly the schema and CEL rules the API server enforces.
package crd

import "embed"

//go:embed bases/*.yaml
var bases embed.FS

// Bases returns the generated CRD manifests (config/crd/bases), one YAML document each, by file name.
func Bases() map[string][]byte {
	entries, err := bases.ReadDir("bases")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	out := make(map[string][]byte, len(entries))
	for _, e := range entries {
		b, err := bases.ReadFile("bases/" + e.Name())
		if err != nil {
			panic(err)
		}
		out[e.Name()] = b
	}
	return out
}
