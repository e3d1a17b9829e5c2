package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	corev1 "k8s.io/api/core/v1"

	"github.com/shopspring/decimal"
	"github.com/spf13/pflag"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/validate"
)

var (
	estimateGVK = ftv1.GroupVersion.WithKind("FineTuneEstimate")
	catalogGVK  = ftv1.GroupVersion.WithKind("PriceCatalog")
	policyGVK   = ftv1.GroupVersion.WithKind("CostPolicy")
	profileGVK  = ftv1.GroupVersion.WithKind("ThroughputProfile")
	// namespaceGVK: a Namespace's labels say which CostPolicies select the estimates in it.
	namespaceGVK = corev1.SchemeGroupVersion.WithKind("Namespace")
)

// origin says where an object came from: "bad.yaml: document 2".
type origin struct {
	file string
	doc  int    // 1-based among the file's documents
	item string // "items[3]" inside a v1 List, else ""
}

func (o origin) String() string {
	switch {
	case o.doc == 0:
		return o.file
	case o.item != "":
		return fmt.Sprintf("%s: document %d: %s", o.file, o.doc, o.item)
	default:
		return fmt.Sprintf("%s: document %d", o.file, o.doc)
	}
}

// decoded is what one document (or one item of a v1 List) holds: an estimate, a catalog, a
// CostPolicy, a ThroughputProfile, a Namespace (for its labels), or an error.
type decoded struct {
	from     origin
	estimate *ftv1.FineTuneEstimate
	catalog  *ftv1.PriceCatalog
	policy   *ftv1.CostPolicy
	profile  *ftv1.ThroughputProfile
	// namespace is a Namespace's labels, by which CostPolicies select the estimates in it.
	namespace *corev1.Namespace
	err       error
}

// document is one YAML document of a file, not yet decoded.
type document struct {
	from origin
	data []byte
}

// Default limits on what the CLI reads: it runs on the files of pull requests (hack/ci-gate.sh),
// which may hold anything. The limits leave room for the largest input the benchmarks read
// (docs/benchmarks.md, "CLI").
const (
	// DefaultMaxInputBytes is the size limit of each input: a file, or standard input.
	DefaultMaxInputBytes = 32 << 20
	// DefaultMaxDocuments is how many YAML documents all inputs may hold together, "---" lines
	// with nothing between them included.
	DefaultMaxDocuments = 20000
)

// inputLimits bound what is read: memory stays within a small multiple of the input
// (BenchmarkInputMemory), and a pull request cannot make the gate read without end.
type inputLimits struct {
	maxBytes int64
	maxDocs  int
}

func (l *inputLimits) addFlags(f *pflag.FlagSet) {
	f.Int64Var(&l.maxBytes, "max-input-bytes", DefaultMaxInputBytes, "size limit of each input file (and of stdin), in bytes")
	f.IntVar(&l.maxDocs, "max-documents", DefaultMaxDocuments, "limit of YAML documents in all inputs together")
}

// reader reads, validates and decodes manifests.
type reader struct {
	validator *validate.Validator
	stdin     io.Reader
	stdinUsed bool
	// limits: zero values are the defaults.
	limits inputLimits
	// docs counts the documents split so far, against limits.maxDocs.
	docs int
}

func (r *reader) maxBytes() int64 {
	if r.limits.maxBytes > 0 {
		return r.limits.maxBytes
	}
	return DefaultMaxInputBytes
}

func (r *reader) maxDocs() int {
	if r.limits.maxDocs > 0 {
		return r.limits.maxDocs
	}
	return DefaultMaxDocuments
}

// read reads paths and returns their objects in order, documents decoded and validated in parallel:
// the schema and CEL validation dominate the cost of a large file.
func (r *reader) read(paths []string) []decoded {
	var docs []document
	var out []decoded
	for _, p := range paths {
		docs, out = r.readPath(p, docs, out)
	}
	results := make([][]decoded, len(docs))
	parallel(len(docs), func(i int) {
		results[i] = r.decode(docs[i])
		docs[i].data = nil // its objects are decoded: let the collector have the text
	})
	// Read errors (unreadable files) come first; then objects in file and document order.
	for _, rs := range results {
		out = append(out, rs...)
	}
	return out
}

func failed(from origin, err error) []decoded { return []decoded{{from: from, err: err}} }

// message is the error of d prefixed with where it was found.
func (d decoded) message() string {
	if d.from.file == "" {
		return d.err.Error()
	}
	return fmt.Sprintf("%s: %v", d.from, d.err)
}

// readPath splits a file, every *.yaml, *.yml and *.json file of a directory, or stdin for "-" into
// documents. Only regular files are read: a named pipe would block for ever and a device (a symlink
// to /dev/zero, say) never ends, so either is refused by name, as is an input over the size limit.
func (r *reader) readPath(path string, docs []document, errs []decoded) ([]document, []decoded) {
	if path == "-" {
		from := origin{file: "<stdin>"}
		if r.stdinUsed {
			return docs, append(errs, decoded{from: from, err: errors.New("standard input can be read only once")})
		}
		r.stdinUsed = true
		data, err := r.readLimited(r.stdin)
		if err != nil {
			return docs, append(errs, decoded{from: from, err: err})
		}
		return r.split(from.file, data, docs, errs)
	}
	info, err := os.Stat(path)
	if err != nil {
		return docs, append(errs, decoded{err: err})
	}
	files := []string{path}
	if info.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return docs, append(errs, decoded{err: err})
		}
		files = files[:0]
		for _, e := range entries {
			if isKustomization(e.Name()) {
				continue // kustomize's own file, not a manifest: render with kustomize build | ftcost estimate -f -
			}
			switch strings.ToLower(filepath.Ext(e.Name())) {
			case ".yaml", ".yml", ".json":
				if !e.IsDir() {
					files = append(files, filepath.Join(path, e.Name()))
				}
			}
		}
		sort.Strings(files)
	}
	for _, f := range files {
		data, err := r.readFile(f)
		if err != nil {
			errs = append(errs, decoded{err: err})
			continue
		}
		docs, errs = r.split(f, data, docs, errs)
	}
	return docs, errs
}

// readFile reads a regular file (a symlink to one is followed) of at most the size limit. Its
// errors name the file.
func (r *reader) readFile(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err // an *fs.PathError names it
	}
	named := func(err error) error { return fmt.Errorf("%s: %w", path, err) }
	if err := regular(info); err != nil {
		return nil, named(err)
	}
	if info.Size() > r.maxBytes() {
		return nil, named(r.tooLarge())
	}
	// Non-blocking: a file swapped for a named pipe since the Stat must not block the open.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	if info, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := regular(info); err != nil {
		return nil, named(err)
	}
	data, err := r.readLimited(f)
	if err != nil {
		return nil, named(err)
	}
	return data, nil
}

// regular refuses what is not a regular file, naming what it is.
func regular(info os.FileInfo) error {
	m := info.Mode()
	switch {
	case m.IsRegular():
		return nil
	case m&os.ModeNamedPipe != 0:
		return errors.New("not a regular file but a named pipe (FIFO): refused")
	case m&os.ModeDevice != 0 || m&os.ModeCharDevice != 0:
		return errors.New("not a regular file but a device: refused")
	case m&os.ModeSocket != 0:
		return errors.New("not a regular file but a socket: refused")
	case m.IsDir():
		return errors.New("a directory inside a directory: not read")
	default:
		return fmt.Errorf("not a regular file (%v): refused", m.Type())
	}
}

// readLimited reads all of in, or fails once it holds more than the size limit.
func (r *reader) readLimited(in io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(in, r.maxBytes()+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > r.maxBytes() {
		return nil, r.tooLarge()
	}
	return data, nil
}

func (r *reader) tooLarge() error {
	return fmt.Errorf("larger than the limit of %d bytes a file (--max-input-bytes)", r.maxBytes())
}

func isKustomization(name string) bool {
	switch name {
	case "kustomization.yaml", "kustomization.yml", "Kustomization":
		return true
	}
	return false
}

// split cuts data into YAML documents at "---" lines (a JSON document is YAML too), counting them
// against the document limit.
func (r *reader) split(file string, data []byte, docs []document, errs []decoded) ([]document, []decoded) {
	rd := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for n := 1; ; n++ {
		doc, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return docs, errs
		}
		if err != nil {
			return docs, append(errs, decoded{from: origin{file: file, doc: n}, err: err})
		}
		if r.docs++; r.docs > r.maxDocs() {
			return docs, append(errs, decoded{from: origin{file: file, doc: n},
				err: fmt.Errorf("more than %d documents in the inputs (--max-documents): the rest is not read", r.maxDocs())})
		}
		docs = append(docs, document{from: origin{file: file, doc: n}, data: doc})
	}
}

func (r *reader) decode(d document) []decoded {
	obj, err := decodeDocument(d.data)
	if err != nil {
		return failed(d.from, err)
	}
	if obj == nil {
		return nil // only comments or "---"
	}
	return r.decodeObject(d.from, obj, nil)
}

// decodeDocument turns one YAML or JSON document into an object as the API server sees it: numbers
// are int64 or float64. A duplicate key is an error, as in the server's strict decoding.
func decodeDocument(doc []byte) (map[string]any, error) {
	js := bytes.TrimSpace(doc)
	if len(js) == 0 || js[0] != '{' {
		var err error
		if js, err = yaml.YAMLToJSONStrict(doc); err != nil {
			return nil, err
		}
	}
	if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
		return nil, nil
	}
	var obj map[string]any
	strict, err := sigsjson.UnmarshalStrict(js, &obj, sigsjson.DisallowDuplicateFields)
	if err != nil {
		return nil, fmt.Errorf("document is not an object: %w", err)
	}
	if len(strict) > 0 {
		return nil, fmt.Errorf("strict decoding error: %w", errors.Join(strict...))
	}
	return obj, nil
}

func (r *reader) decodeObject(from origin, obj map[string]any, out []decoded) []decoded {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	switch {
	case apiVersion == "" && kind == "":
		return append(out, decoded{from: from, err: errors.New("apiVersion not set, kind not set")})
	case apiVersion == "":
		return append(out, decoded{from: from, err: errors.New("apiVersion not set")})
	case kind == "":
		return append(out, decoded{from: from, err: errors.New("kind not set")})
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return append(out, decoded{from: from, err: err})
	}
	if gv.Group == "" && gv.Version == "v1" && kind == "List" {
		items, ok := obj["items"].([]any)
		if !ok && obj["items"] != nil {
			return append(out, decoded{from: from, err: errors.New("items: must be a list")})
		}
		for i, item := range items {
			itemFrom := origin{file: from.file, doc: from.doc, item: fmt.Sprintf("items[%d]", i)}
			m, ok := item.(map[string]any)
			if !ok {
				out = append(out, decoded{from: itemFrom, err: errors.New("not an object")})
				continue
			}
			out = r.decodeObject(itemFrom, m, out)
		}
		return out
	}
	gvk := gv.WithKind(kind)
	if gvk == namespaceGVK {
		ns := &corev1.Namespace{}
		if err := fromUnstructured(obj, ns); err != nil {
			return append(out, decoded{from: from, err: err})
		}
		if ns.Name == "" {
			return append(out, decoded{from: from, err: errors.New("a Namespace: metadata.name: Required value")})
		}
		return append(out, decoded{from: from, namespace: ns})
	}
	if gvk != estimateGVK && gvk != catalogGVK && gvk != policyGVK && gvk != profileGVK {
		return append(out, decoded{from: from, err: &validate.UnknownKindError{APIVersion: apiVersion, Kind: kind}})
	}
	if r.validator.Namespaced(gvk) {
		defaultNamespace(obj)
	}
	generateName(obj)
	// A ThroughputProfile's status is its measurement: keep it, where an API server would drop it
	// on create, so a profile exported with kubectl get -o yaml calibrates offline as in the cluster.
	profileStatus := obj["status"]
	if err := r.validator.Validate(obj); err != nil {
		return append(out, decoded{from: from, err: err})
	}
	if gvk == profileGVK && profileStatus != nil {
		obj["status"] = profileStatus
	}
	d := decoded{from: from}
	var meta *metav1.ObjectMeta
	switch gvk {
	case estimateGVK:
		d.estimate = &ftv1.FineTuneEstimate{}
		meta = &d.estimate.ObjectMeta
		err = fromUnstructured(obj, d.estimate)
	case catalogGVK:
		d.catalog = &ftv1.PriceCatalog{}
		meta = &d.catalog.ObjectMeta
		err = fromUnstructured(obj, d.catalog)
	case policyGVK:
		d.policy = &ftv1.CostPolicy{}
		meta = &d.policy.ObjectMeta
		err = fromUnstructured(obj, d.policy)
	case profileGVK:
		d.profile = &ftv1.ThroughputProfile{}
		meta = &d.profile.ObjectMeta
		if err = fromUnstructured(obj, d.profile); err == nil {
			err = checkProfileStatus(&d.profile.Status)
		}
	}
	if err != nil {
		return append(out, decoded{from: from, err: err})
	}
	if meta.Generation == 0 {
		meta.Generation = 1 // as the API server sets it on create
	}
	return append(out, d)
}

// defaultNamespace gives a namespaced object without a namespace "default", as kubectl does with the
// default context.
func defaultNamespace(obj map[string]any) {
	meta, ok := obj["metadata"].(map[string]any)
	if obj["metadata"] == nil {
		meta, ok = map[string]any{}, true
		obj["metadata"] = meta
	}
	if !ok {
		return // the validator reports a malformed metadata
	}
	if ns, _ := meta["namespace"].(string); ns == "" {
		meta["namespace"] = "default"
	}
}

// generatedSuffix stands for the five random characters the API server appends to generateName.
const generatedSuffix = "xxxxx"

// generateName names an object that has only metadata.generateName as the server does before it
// validates, with a fixed suffix instead of a random one: the server creates such objects, so the CLI
// estimates them too. A generateName the server would refuse is left for the validator to name.
func generateName(obj map[string]any) {
	meta, _ := obj["metadata"].(map[string]any)
	if meta == nil {
		return
	}
	name, _ := meta["name"].(string)
	prefix, _ := meta["generateName"].(string)
	if name == "" && prefix != "" {
		meta["name"] = prefix + generatedSuffix
	}
}

func fromUnstructured(obj map[string]any, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(obj, into)
}

// parallel calls fn(0..n-1) on GOMAXPROCS goroutines.
func parallel(n int, fn func(i int)) {
	workers := min(goruntime.GOMAXPROCS(0), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		})
	}
	wg.Wait()
}

// checkProfileStatus checks the measured figures of a ThroughputProfile read from a file: the API
// server never validates a status the operator writes, but a file's may be edited by hand.
func checkProfileStatus(st *ftv1.ThroughputProfileStatus) error {
	if st.Samples < 0 {
		return fmt.Errorf("status.samples: must be at least 0, got %d", st.Samples)
	}
	fields := []struct{ path, value string }{
		{"status.tokensPerGPUSecond", st.TokensPerGPUSecond}, {"status.spreadPercent", st.SpreadPercent},
	}
	for i, r := range st.RecentRuns {
		fields = append(fields, struct{ path, value string }{fmt.Sprintf("status.recentRuns[%d].tokensPerGPUSecond", i), r.TokensPerGPUSecond})
	}
	for _, f := range fields {
		if f.value == "" {
			continue
		}
		if d, err := decimal.NewFromString(f.value); err != nil || d.Sign() < 0 {
			return fmt.Errorf("%s: %q is not a decimal number of at least 0", f.path, f.value)
		}
	}
	return nil
}
