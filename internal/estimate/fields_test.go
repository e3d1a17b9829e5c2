package estimate

import (
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/ftcost/ftcost/config/crd"
	"github.com/ftcost/ftcost/engine"
)

// TestEveryEngineFieldHasASpecPath checks that each input the engine can name maps to a field that
// exists in the FineTuneEstimate CRD's schema, so a user is always pointed at a field they can edit.
func TestEveryEngineFieldHasASpecPath(t *testing.T) {
	var c apiextensionsv1.CustomResourceDefinition
	if err := yaml.Unmarshal(crd.Bases()["ftcost.io_finetuneestimates.yaml"], &c); err != nil {
		t.Fatal(err)
	}
	root := c.Spec.Versions[0].Schema.OpenAPIV3Schema
	for _, f := range engine.InputFields {
		path, ok := specPaths[f]
		if !ok {
			t.Errorf("engine field %s has no spec path", f)
			continue
		}
		s := root
		for _, part := range strings.Split(path, ".") {
			p, ok := s.Properties[part]
			if !ok {
				t.Errorf("engine field %s maps to %s, which the CRD does not have (no %q)", f, path, part)
				break
			}
			s = &p
		}
	}
}

func TestSpecMessage(t *testing.T) {
	tests := map[string]struct {
		err  engine.Error
		want string
	}{
		"engine field":    {engine.Error{Field: engine.FieldExamples, Message: "must be at least 1, got 0"}, "spec.dataset.examples: must be at least 1, got 0"},
		"one-time cost":   {engine.Error{Field: engine.FieldHardware, Message: "must not be negative"}, "spec.oneTimeCosts.hardware: must not be negative"},
		"no field":        {engine.Error{Message: "bad"}, "bad"},
		"unmapped passes": {engine.Error{Field: "Other", Message: "x"}, "Other: x"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := SpecMessage(&tc.err); got != tc.want {
				t.Errorf("SpecMessage = %q, want %q", got, tc.want)
			}
		})
	}
}
