package manager

import (
	"flag"
	"testing"
)

func TestFlagDefaults(t *testing.T) {
	var o Options
	o.BindFlags(flag.NewFlagSet("manager", flag.ContinueOnError))
	if o.QPS != 0 || o.Concurrency != 16 || !o.MetricsSecure || o.MetricsAddr != ":8443" || o.PprofAddr != "0" {
		t.Errorf("defaults: qps %v, workers %d, metrics %q secure %v, pprof %q; want no client-side limit, 16 workers, HTTPS on :8443, no pprof",
			o.QPS, o.Concurrency, o.MetricsAddr, o.MetricsSecure, o.PprofAddr)
	}
	if err := o.Validate(); err != nil {
		t.Errorf("the defaults do not validate: %v", err)
	}
}

func TestValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		o     Options
		valid bool
	}{
		"no client-side limit":       {Options{QPS: 0, Concurrency: 1}, true},
		"a limit with a burst":       {Options{QPS: 20, Burst: 30, Concurrency: 1}, true},
		"a limit without a burst":    {Options{QPS: 20, Burst: 0, Concurrency: 1}, false},
		"a negative QPS":             {Options{QPS: -1, Concurrency: 1}, false},
		"no workers":                 {Options{Concurrency: 0}, false},
		"a negative resync interval": {Options{Concurrency: 1, SyncPeriod: -1}, false},
	} {
		t.Run(name, func(t *testing.T) {
			if err := tc.o.Validate(); (err == nil) != tc.valid {
				t.Errorf("Validate() = %v, want valid %v", err, tc.valid)
			}
		})
	}
}

func TestSoftMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		name      string
		env       map[string]string
		want      int64
		wantLimit bool
	}{
		{"the request", map[string]string{MemoryRequestEnv: "100663296"}, 100663296, true},
		{"no request", map[string]string{}, 0, false},
		// The downward API gives 0 for a container without a memory request: no limit, not a zero one.
		{"a zero request", map[string]string{MemoryRequestEnv: "0"}, 0, false},
		{"not bytes", map[string]string{MemoryRequestEnv: "96Mi"}, 0, false},
		{"GOMEMLIMIT wins", map[string]string{MemoryRequestEnv: "100663296", "GOMEMLIMIT": "200MiB"}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := SoftMemoryLimit(func(k string) string { return tc.env[k] })
			if got != tc.want || ok != tc.wantLimit {
				t.Errorf("SoftMemoryLimit = %d, %v; want %d, %v", got, ok, tc.want, tc.wantLimit)
			}
		})
	}
}
