// Package validate checks ftcost objects offline the way the API server checks them on create: strict
// field validation (unknown fields), the CRD's OpenAPI schema (types, enum, pattern, bounds, required),
// list-type invariants and the CEL x-kubernetes-validations, all compiled from the generated CRDs in
// config/crd/bases. Errors read exactly as the API server's do, as kubectl-validate does it.
package validate

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	apiextensions "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metavalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"

	"github.com/ftcost/ftcost/config/crd"
)

// Validator validates objects of the kinds its CRDs define. Build it once: compiling the schema
// validators and CEL programs is the expensive part; Validate is cheap and safe for concurrent use.
type Validator struct {
	kinds map[schema.GroupVersionKind]*kind
}

// kind holds what was compiled from one served version of one CRD.
type kind struct {
	gvk        schema.GroupVersionKind
	namespaced bool
	hasStatus  bool
	structural *structuralschema.Structural
	schema     apiservervalidation.SchemaValidator
	cel        *cel.Validator // nil when the schema has no x-kubernetes-validations
	// Walks that cannot find anything are skipped: they cost a tenth of validating a large file.
	hasDefaults, hasListTypes bool
}

// UnknownKindError says an object is not of a kind any CRD defines, as kubectl says it.
type UnknownKindError struct{ APIVersion, Kind string }

func (e *UnknownKindError) Error() string {
	return fmt.Sprintf("no matches for kind %q in version %q", e.Kind, e.APIVersion)
}

// StrictDecodingError reports unknown fields the way the API server's strict field validation does
// (kubectl's default --validate=strict).
type StrictDecodingError struct {
	GVK    schema.GroupVersionKind
	Fields []string
}

func (e *StrictDecodingError) Error() string {
	msgs := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		msgs[i] = fmt.Sprintf("unknown field %q", f)
	}
	return fmt.Sprintf("%s in version %q cannot be handled as a %s: strict decoding error: %s",
		e.GVK.Kind, e.GVK.Version, e.GVK.Kind, strings.Join(msgs, ", "))
}

var (
	defaultOnce      sync.Once
	defaultValidator *Validator
	defaultErr       error
)

// Default is the Validator for ftcost's own CRDs (embedded from config/crd/bases), built once.
func Default() (*Validator, error) {
	defaultOnce.Do(func() {
		bases := crd.Bases()
		names := slices.Sorted(maps.Keys(bases))
		docs := make([][]byte, 0, len(names))
		for _, n := range names {
			docs = append(docs, bases[n])
		}
		defaultValidator, defaultErr = New(docs...)
	})
	return defaultValidator, defaultErr
}

// New compiles a Validator from CustomResourceDefinition manifests (apiextensions.k8s.io/v1 YAML or
// JSON), one per argument.
func New(crdManifests ...[]byte) (*Validator, error) {
	v := &Validator{kinds: map[schema.GroupVersionKind]*kind{}}
	for _, m := range crdManifests {
		var def apiextensionsv1.CustomResourceDefinition
		if err := yaml.UnmarshalStrict(m, &def); err != nil {
			return nil, fmt.Errorf("decoding CustomResourceDefinition: %w", err)
		}
		for i := range def.Spec.Versions {
			ver := &def.Spec.Versions[i]
			if !ver.Served || ver.Schema == nil || ver.Schema.OpenAPIV3Schema == nil {
				continue
			}
			k, err := compile(&def, ver)
			if err != nil {
				return nil, fmt.Errorf("CustomResourceDefinition %s version %s: %w", def.Name, ver.Name, err)
			}
			v.kinds[k.gvk] = k
		}
	}
	return v, nil
}

func compile(def *apiextensionsv1.CustomResourceDefinition, ver *apiextensionsv1.CustomResourceDefinitionVersion) (*kind, error) {
	internal := &apiextensions.JSONSchemaProps{}
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(ver.Schema.OpenAPIV3Schema, internal, nil); err != nil {
		return nil, fmt.Errorf("converting schema: %w", err)
	}
	structural, err := structuralschema.NewStructural(internal)
	if err != nil {
		return nil, fmt.Errorf("schema is not structural: %w", err)
	}
	sv, _, err := apiservervalidation.NewSchemaValidator(internal)
	if err != nil {
		return nil, fmt.Errorf("compiling schema validator: %w", err)
	}
	k := &kind{
		gvk:        schema.GroupVersionKind{Group: def.Spec.Group, Version: ver.Name, Kind: def.Spec.Names.Kind},
		namespaced: def.Spec.Scope == apiextensionsv1.NamespaceScoped,
		hasStatus:  ver.Subresources != nil && ver.Subresources.Status != nil,
		structural: structural,
		schema:     sv,
		cel:        cel.NewValidator(structural, true, celconfig.PerCallLimit),
	}
	// Status is dropped before validation when it is a subresource, so its schema never applies.
	validated := structural
	if k.hasStatus && structural.Properties["status"].Type != "" {
		trimmed := *structural
		trimmed.Properties = make(map[string]structuralschema.Structural, len(structural.Properties))
		for n, p := range structural.Properties {
			if n != "status" {
				trimmed.Properties[n] = p
			}
		}
		validated = &trimmed
	}
	k.hasDefaults = anySchema(validated, func(s *structuralschema.Structural) bool { return s.Default.Object != nil })
	k.hasListTypes = anySchema(validated, func(s *structuralschema.Structural) bool { return s.XListType != nil })
	return k, nil
}

// anySchema reports whether pred holds for s or any schema nested in it.
func anySchema(s *structuralschema.Structural, pred func(*structuralschema.Structural) bool) bool {
	if s == nil {
		return false
	}
	if pred(s) || anySchema(s.Items, pred) {
		return true
	}
	if s.AdditionalProperties != nil && anySchema(s.AdditionalProperties.Structural, pred) {
		return true
	}
	for _, p := range s.Properties {
		if anySchema(&p, pred) {
			return true
		}
	}
	return false
}

// Namespaced reports whether gvk is a namespaced kind.
func (v *Validator) Namespaced(gvk schema.GroupVersionKind) bool {
	k := v.kinds[gvk]
	return k != nil && k.namespaced
}

// Validate checks obj, an object decoded from JSON (numbers as int64 or float64, as
// k8s.io/apimachinery/pkg/util/json decodes them), as the API server does on create, and normalises
// it the same way: it drops status when the kind has a status subresource, drops null values of
// non-nullable fields, and clears metadata.namespace of a cluster-scoped kind. The error is an
// *UnknownKindError, a *StrictDecodingError or an apierrors Invalid *StatusError whose message is the
// server's, for example:
//
//	FineTuneEstimate.ftcost.io "x" is invalid: spec.method: Unsupported value: "Foo": supported values: "Full", "LoRA", "QLoRA"
func (v *Validator) Validate(obj map[string]any) error {
	apiVersion, _ := obj["apiVersion"].(string)
	kindName, _ := obj["kind"].(string)
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return err
	}
	k := v.kinds[gv.WithKind(kindName)]
	if k == nil {
		return &UnknownKindError{APIVersion: apiVersion, Kind: kindName}
	}
	if k.hasStatus {
		delete(obj, "status") // the server ignores status on create when it is a subresource
	}

	// Decoding, as the server's schemaCoercingDecoder does with fieldValidation=Strict.
	objectMeta, _, unknown, err := schemaobjectmeta.GetObjectMetaWithOptions(obj, schemaobjectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if err != nil {
		return apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: %v", k.gvk.Kind, k.gvk.Version, k.gvk.Kind, err))
	}
	unknown = append(unknown, structuralpruning.PruneWithOptions(obj, k.structural, true,
		structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})...)
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(obj, k.structural)
	ferr, metaUnknown := schemaobjectmeta.CoerceWithOptions(nil, obj, k.structural, false, schemaobjectmeta.CoerceOptions{ReturnUnknownFieldPaths: true})
	if ferr != nil {
		return apierrors.NewInvalid(k.gvk.GroupKind(), nameOf(objectMeta), field.ErrorList{ferr})
	}
	unknown = append(unknown, metaUnknown...)
	if len(unknown) > 0 {
		return &StrictDecodingError{GVK: k.gvk, Fields: unknown}
	}
	if objectMeta == nil {
		objectMeta = &metav1.ObjectMeta{}
	}
	if !k.namespaced {
		objectMeta.Namespace = "" // the server ignores a namespace on a cluster-scoped object
	}
	if err := schemaobjectmeta.SetObjectMeta(obj, objectMeta); err != nil {
		return err
	}
	if k.hasDefaults {
		structuraldefaulting.Default(obj, k.structural)
	}

	// Validation, as customResourceStrategy.Validate does.
	errs := metavalidation.ValidateObjectMeta(objectMeta, k.namespaced, metavalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	errs = append(errs, apiservervalidation.ValidateCustomResource(nil, obj, k.schema)...)
	if k.hasListTypes {
		errs = append(errs, listtype.ValidateListSetsAndMaps(nil, k.structural, obj)...)
	}
	if k.cel != nil {
		if blocked := blockingError(errs); blocked != nil {
			errs = append(errs, blocked)
		} else {
			celErrs, _ := k.cel.Validate(context.Background(), nil, k.structural, obj, nil, celconfig.RuntimeCELCostBudget)
			errs = append(errs, celErrs...)
		}
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(k.gvk.GroupKind(), objectMeta.Name, errs)
	}
	return nil
}

func nameOf(m *metav1.ObjectMeta) string {
	if m == nil {
		return ""
	}
	return m.Name
}

// blockingError mirrors the server: CEL rules are not run over an object whose schema errors mean the
// rules could see values of the wrong type or size.
func blockingError(errs field.ErrorList) *field.Error {
	for _, err := range errs {
		switch err.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong, field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return field.Invalid(nil, nil, "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation")
		}
	}
	return nil
}
