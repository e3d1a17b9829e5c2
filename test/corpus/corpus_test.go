// Package corpus runs every hostile or broken manifest under test/corpus/manifests against a real
// kube-apiserver (with the operator running, as its service account) and through the ftcost CLI,
// and checks that each meets the expectation written in its first comment line and that the CLI
// agrees with the server.
//
// Each file starts with "# want: " and one of:
//
//	refused SUBSTRING         the API server refuses the last document, naming SUBSTRING; so does the CLI
//	ready False REASON [TEXT] the last document is accepted and becomes Ready=False with REASON
//	ready True                the last document is accepted, Ready=True, and its figures are sane
//	accepted                  a CostPolicy the server stores (the CLI checks it and does not apply it)
//
// A JSON manifest (sent as JSON, as kubectl sends every manifest) keeps these lines in FILE.want.
// A "# cli: SUBSTRING" line names the CLI's wording where it differs from the server's (see
// docs/cli.md). Earlier documents of a file (a PriceCatalog an estimate prices with) are created
// first and must be accepted. Estimates are compared field by field: the CLI's status must equal the
// operator's, condition timestamps aside.
package corpus

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/shopspring/decimal"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/cli"
	"github.com/ftcost/ftcost/internal/manager"
	"github.com/ftcost/ftcost/internal/testenv"
)

var (
	env        *testenv.Env
	ctx        context.Context
	httpClient *http.Client
)

func TestMain(m *testing.M) { testenv.Main(m, run) }

func run(suiteCtx context.Context, m *testing.M) (int, error) {
	ctx = suiteCtx
	var err error
	if env, err = testenv.Start(); err != nil {
		return 0, err
	}
	defer func() { _ = env.Stop() }()
	if httpClient, err = rest.HTTPClientFor(env.Config); err != nil {
		return 0, err
	}
	_, stop, err := env.RunOperator(ctx, manager.Options{MetricsAddr: "0", ProbeAddr: "0", QPS: 100, Burst: 200, Concurrency: 4})
	if err != nil {
		return 0, err
	}
	defer stop()
	return m.Run(), nil
}

// expectation is what a manifest's header says.
type expectation struct {
	kind   string // refused | ready | accepted
	ready  metav1.ConditionStatus
	reason string
	text   string // a substring of the error or condition message
	cli    string // the CLI's substring when its wording differs
}

func parseHeader(t *testing.T, data []byte) expectation {
	t.Helper()
	var e expectation
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "#") {
			break
		}
		line = strings.TrimSpace(strings.TrimPrefix(line, "#"))
		switch {
		case strings.HasPrefix(line, "want: "):
			f := strings.Fields(strings.TrimPrefix(line, "want: "))
			e.kind = f[0]
			switch e.kind {
			case "refused":
				e.text = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(line, "want: "), "refused"))
			case "ready":
				e.ready = metav1.ConditionStatus(f[1])
				if len(f) > 2 {
					e.reason = f[2]
				}
				if len(f) > 3 {
					e.text = strings.Join(f[3:], " ")
				}
			}
		case strings.HasPrefix(line, "cli: "):
			e.cli = strings.TrimPrefix(line, "cli: ")
		}
	}
	if e.kind == "" {
		t.Fatal(`the first comment lines must say "# want: ..."`)
	}
	return e
}

// documents splits a file into YAML documents, comments-only documents dropped.
func documents(t *testing.T, data []byte) [][]byte {
	t.Helper()
	var out [][]byte
	rd := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		var probe any
		if yaml.Unmarshal(doc, &probe) == nil && probe == nil {
			continue
		}
		out = append(out, doc)
	}
}

// resourceFor is where a document is posted: its kind's collection, or the estimates' for anything
// else (the server then refuses the kind itself).
func resourceFor(doc []byte) (resource string, namespaced bool) {
	var head struct{ Kind string }
	_ = yaml.Unmarshal(doc, &head)
	switch head.Kind {
	case "PriceCatalog":
		return "pricecatalogs", false
	case "CostPolicy":
		return "costpolicies", false
	}
	return "finetuneestimates", true
}

// create posts doc as it is, YAML, with strict field validation (what kubectl does by default), and
// returns the object created or the server's own error.
func create(ns string, doc []byte) (*unstructured.Unstructured, error) {
	resource, namespaced := resourceFor(doc)
	path := "/apis/" + ftv1.GroupVersion.String() + "/"
	if namespaced {
		path += "namespaces/" + ns + "/"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(env.Config.Host, "/")+path+resource+"?fieldValidation=Strict", bytes.NewReader(doc))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/yaml")
	if json.Valid(doc) {
		req.Header.Set("Content-Type", "application/json") // what kubectl sends
	}
	req.Header.Set("Accept", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		status := &metav1.Status{}
		if err := json.Unmarshal(body, status); err != nil || status.Message == "" {
			return nil, fmt.Errorf("%s: %s", resp.Status, body)
		}
		return nil, &apierrors.StatusError{ErrStatus: *status}
	}
	u := &unstructured.Unstructured{}
	return u, u.UnmarshalJSON(body)
}

func TestCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("manifests", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	jsonFiles, _ := filepath.Glob(filepath.Join("manifests", "*.json"))
	files = append(files, jsonFiles...)
	if len(files) < 100 {
		t.Fatalf("the corpus holds %d manifests, want at least 100", len(files))
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "corpus-"}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			checkManifest(t, ns.Name, f, data)
		})
	}
}

func checkManifest(t *testing.T, ns, file string, data []byte) {
	header := data
	if sidecar, err := os.ReadFile(file + ".want"); err == nil {
		header = sidecar // JSON has no comments
	}
	want := parseHeader(t, header)
	docs := documents(t, data)
	if len(docs) == 0 {
		t.Fatal("no documents")
	}
	// The server.
	var subject *unstructured.Unstructured
	var serverErr error
	for i, doc := range docs {
		u, err := create(ns, doc)
		if u != nil {
			t.Cleanup(func() { _ = env.Client.Delete(context.Background(), u) })
		}
		if i < len(docs)-1 && err != nil {
			t.Fatalf("document %d is the subject's context and must be accepted: %v", i+1, err)
		}
		subject, serverErr = u, err
	}
	// The CLI, on the same file.
	var out, errOut bytes.Buffer
	code := cli.Run([]string{"estimate", "-f", file, "-o", "yaml"}, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errOut})
	t.Logf("server: %v\ncli (exit %d): %s", serverErr, code, strings.TrimSpace(errOut.String()))

	switch want.kind {
	case "refused":
		if serverErr == nil {
			t.Fatalf("the API server accepted it, want it refused naming %q", want.text)
		}
		if !strings.Contains(serverErr.Error(), want.text) {
			t.Errorf("the server's error does not name %q:\n%v", want.text, serverErr)
		}
		cliWant := want.text
		if want.cli != "" {
			cliWant = want.cli
		}
		if code != cli.ExitInput || !strings.Contains(errOut.String(), cliWant) {
			t.Errorf("the CLI exits %d with %q, want %d naming %q", code, errOut.String(), cli.ExitInput, cliWant)
		}
	case "accepted":
		if serverErr != nil {
			t.Fatalf("the API server refused it: %v", serverErr)
		}
		if code == cli.ExitInput {
			t.Errorf("the CLI refused it: %s", errOut.String())
		}
	case "ready":
		if serverErr != nil {
			t.Fatalf("the API server refused it: %v", serverErr)
		}
		if subject.GetKind() == "PriceCatalog" {
			checkCatalog(t, subject, want, code, errOut.String())
			return
		}
		checkEstimate(t, subject, want, code, out.Bytes(), errOut.String())
	default:
		t.Fatalf("unknown expectation %q", want.kind)
	}
}

func checkCatalog(t *testing.T, subject *unstructured.Unstructured, want expectation, code int, cliErr string) {
	pc := &ftv1.PriceCatalog{}
	cond := waitFor(t, subject, pc, func() []metav1.Condition { return pc.Status.Conditions }, pc.GetGeneration)
	check(t, "server", cond, want)
	switch want.ready {
	case metav1.ConditionFalse:
		// The CLI has no catalog status to write: a catalog it cannot price with is bad input.
		if code != cli.ExitInput || !strings.Contains(cliErr, want.reason) || !strings.Contains(cliErr, want.text) {
			t.Errorf("the CLI exits %d with %q, want %d naming %s and %q", code, cliErr, cli.ExitInput, want.reason, want.text)
		}
	default:
		if code == cli.ExitInput {
			t.Errorf("the CLI refused a catalog the operator calls Ready: %s", cliErr)
		}
	}
}

func checkEstimate(t *testing.T, subject *unstructured.Unstructured, want expectation, code int, cliOut []byte, cliErr string) {
	list := struct {
		Items []ftv1.FineTuneEstimate `json:"items"`
	}{}
	if err := yaml.Unmarshal(cliOut, &list); err != nil || len(list.Items) != 1 {
		t.Fatalf("the CLI printed %d estimates (%v), want 1; stderr: %s", len(list.Items), err, cliErr)
	}
	cliStatus := list.Items[0].Status
	if wantCode := map[metav1.ConditionStatus]int{metav1.ConditionTrue: cli.ExitOK, metav1.ConditionFalse: cli.ExitInput}[want.ready]; code != wantCode {
		t.Errorf("the CLI exits %d, want %d: %s", code, wantCode, cliErr)
	}
	// The operator settles within moments (a catalog's Stale condition may reach it after its
	// first estimate); then its status must be the CLI's, condition timestamps aside.
	obj := &ftv1.FineTuneEstimate{}
	var diff string
	for deadline := time.Now().Add(30 * time.Second); ; {
		cond := waitFor(t, subject, obj, func() []metav1.Condition { return obj.Status.Conditions }, obj.GetGeneration)
		diff = cmp.Diff(obj.Status, cliStatus, cmpopts.IgnoreFields(metav1.Condition{}, "LastTransitionTime"), cmpopts.EquateEmpty())
		if diff == "" {
			check(t, "server", cond, want)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the CLI's status differs from the operator's (-operator +cli):\n%s", diff)
		}
		time.Sleep(50 * time.Millisecond) // polling an API server, not waiting for time to pass
	}
	if want.ready == metav1.ConditionTrue {
		sane(t, &obj.Status)
	}
}

// waitFor polls the subject until its status is for its generation and carries Ready.
func waitFor(t *testing.T, subject *unstructured.Unstructured, into client.Object, conds func() []metav1.Condition, generation func() int64) *metav1.Condition {
	t.Helper()
	key := client.ObjectKeyFromObject(subject)
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := env.Client.Get(ctx, key, into)
		if err == nil {
			if c := meta.FindStatusCondition(conds(), ftv1.ConditionReady); c != nil && c.Status != metav1.ConditionUnknown && c.ObservedGeneration == generation() {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no Ready condition for generation %d within 30s (%v): %+v", generation(), err, conds())
		}
		time.Sleep(50 * time.Millisecond) // polling an API server, not waiting for time to pass
	}
}

func check(t *testing.T, who string, c *metav1.Condition, want expectation) {
	t.Helper()
	if c.Status != want.ready || (want.reason != "" && c.Reason != want.reason) || !strings.Contains(c.Message, want.text) {
		t.Errorf("%s: Ready = %s %s %q, want %s %s containing %q", who, c.Status, c.Reason, c.Message, want.ready, want.reason, want.text)
	}
}

// sane checks that a computed estimate's figures hold together: money parses, is rounded to the cent,
// upfront = training + one-time, the first month's savings = API - serving, and nothing is negative
// that cannot be.
func sane(t *testing.T, s *ftv1.FineTuneEstimateStatus) {
	t.Helper()
	money := map[string]string{"trainingCost": s.TrainingCost, "oneTimeCost": s.OneTimeCost, "upfrontCost": s.UpfrontCost,
		"apiMonthlyCost": s.APIMonthlyCost, "servingMonthlyCost": s.ServingMonthlyCost, "monthlySavings": s.MonthlySavings,
		"netSavings": s.NetSavings, "netPresentValue": s.NetPresentValue}
	v := map[string]decimal.Decimal{}
	for _, name := range slices.Sorted(maps.Keys(money)) {
		d, err := decimal.NewFromString(money[name])
		if err != nil || d.Exponent() != -2 {
			t.Errorf("%s = %q, want a decimal with two places", name, money[name])
			continue
		}
		v[name] = d
	}
	for _, name := range []string{"trainingCost", "oneTimeCost", "upfrontCost", "apiMonthlyCost", "servingMonthlyCost"} {
		if v[name].IsNegative() {
			t.Errorf("%s = %s is negative", name, v[name])
		}
	}
	if !v["trainingCost"].Add(v["oneTimeCost"]).Equal(v["upfrontCost"]) {
		t.Errorf("upfront %s != training %s + one-time %s", v["upfrontCost"], v["trainingCost"], v["oneTimeCost"])
	}
	if !v["apiMonthlyCost"].Sub(v["servingMonthlyCost"]).Equal(v["monthlySavings"]) {
		t.Errorf("savings %s != API %s - serving %s", v["monthlySavings"], v["apiMonthlyCost"], v["servingMonthlyCost"])
	}
	if s.Currency != "USD" || s.HorizonMonths < 1 || s.HorizonMonths > 120 {
		t.Errorf("currency %q, horizon %d", s.Currency, s.HorizonMonths)
	}
	if s.GPUHours != "" {
		if h, err := decimal.NewFromString(s.GPUHours); err != nil || !h.IsPositive() || s.GPUCount < 1 {
			t.Errorf("gpuHours %q with %d GPUs", s.GPUHours, s.GPUCount)
		}
	}
	want := map[bool]ftv1.Recommendation{true: ftv1.RecommendationFineTune, false: ftv1.RecommendationAPI}[v["netPresentValue"].IsPositive()]
	if s.Recommendation != want {
		t.Errorf("recommendation %s with net present value %s", s.Recommendation, s.NetPresentValue)
	}
}
