package dist

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	kueue "sigs.k8s.io/kueue/apis/kueue/v1beta2"

	"github.com/ftcost/ftcost/internal/testenv"
)

// decodeAll splits a YAML stream into objects, skipping empty documents.
func decodeAll(t *testing.T, data []byte) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	d := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := d.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatalf("decoding YAML: %v", err)
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}

// strictScheme knows every kind the chart may render.
var strictScheme = func() *runtime.Scheme {
	s := testenv.Scheme()
	for _, add := range []func(*runtime.Scheme) error{apiextensionsv1.AddToScheme, kueue.AddToScheme, monitoringv1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

// decodeStrict decodes u into its typed kind, failing on a field the type does not have: a
// misspelled or misplaced field in a template would otherwise be dropped silently by the API server.
func decodeStrict(t *testing.T, u *unstructured.Unstructured) runtime.Object {
	t.Helper()
	b, err := u.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	codecs := serializer.NewCodecFactory(strictScheme, serializer.EnableStrict)
	obj, _, err := codecs.UniversalDeserializer().Decode(b, nil, nil)
	if err != nil {
		t.Errorf("%s %s: %v", u.GetKind(), u.GetName(), err)
		return nil
	}
	return obj
}

// dryRunApply applies each object with server-side apply in dry-run mode: the API server runs its
// schema, CEL rules and admission on them and stores nothing. Kinds whose CRDs the test API server
// lacks (the Prometheus Operator's) are only strictly decoded.
func dryRunApply(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, u := range objs {
		if u.GetAPIVersion() == monitoringv1.SchemeGroupVersion.String() {
			continue
		}
		err := env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u.DeepCopy()),
			client.DryRunAll, client.FieldOwner("ftcost-dist-test"), client.ForceOwnership)
		if err != nil {
			t.Errorf("server-side dry-run apply of %s %s/%s: %v", u.GetKind(), u.GetNamespace(), u.GetName(), err)
		}
	}
}

// byKindName indexes objects by "Kind/name".
func byKindName(objs []*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	m := map[string]*unstructured.Unstructured{}
	for _, u := range objs {
		m[u.GetKind()+"/"+u.GetName()] = u
	}
	return m
}

func kindNames(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, u := range objs {
		out = append(out, u.GetKind()+"/"+u.GetName())
	}
	return out
}

func hasPrefixAny(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
