package metrics

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-logr/logr/funcr"
	authnv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// The metrics endpoint's filter: no token or one the API server refuses is 401 (not 500), logged
// without a stack trace, and asked about once while cached; a vouched token without the permission
// is 403; one with it is served, its review and authorization cached; a TokenReview that cannot be
// made is 500 and asked again next time.
func TestAuthFilter(t *testing.T) {
	var reviews, accessReviews atomic.Int32
	var reviewsFail atomic.Bool
	cs := fake.NewClientset()
	cs.PrependReactor("create", "tokenreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		reviews.Add(1)
		if reviewsFail.Load() {
			return true, nil, errors.New("connection refused")
		}
		tr := a.(k8stesting.CreateAction).GetObject().(*authnv1.TokenReview).DeepCopy()
		switch tr.Spec.Token {
		case "prometheus-token":
			tr.Status = authnv1.TokenReviewStatus{Authenticated: true, User: authnv1.UserInfo{Username: "prometheus"}}
		case "stranger-token":
			tr.Status = authnv1.TokenReviewStatus{Authenticated: true, User: authnv1.UserInfo{Username: "stranger"}}
		default:
			tr.Status = authnv1.TokenReviewStatus{Error: "invalid bearer token"}
		}
		return true, tr, nil
	})
	// The SubjectAccessReviews and their cache are controller-runtime's (authorizerfactory); here
	// each decision is counted.
	az := authorizer.AuthorizerFunc(func(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
		accessReviews.Add(1)
		if a.GetUser().GetName() == "prometheus" && a.GetPath() == "/metrics" && a.GetVerb() == "get" {
			return authorizer.DecisionAllow, "", nil
		}
		return authorizer.DecisionDeny, "", nil
	})
	filter := newAuthFilter(cs.AuthenticationV1().TokenReviews(), az)
	var logs strings.Builder
	log := funcr.New(func(prefix, args string) { logs.WriteString(prefix + args + "\n") }, funcr.Options{Verbosity: 10})
	h, err := filter(log, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("metrics")) }))
	if err != nil {
		t.Fatal(err)
	}
	get := func(token string) int {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, tc := range []struct {
		name             string
		token            string
		times            int
		want             int
		reviews, access  int32
		failTokenReviews bool
	}{
		{name: "no token", times: 3, want: http.StatusUnauthorized},
		{name: "a token the server never issued, 200 times", token: "not-a-token", times: 200, want: http.StatusUnauthorized, reviews: 1},
		{name: "a token without metrics-reader", token: "stranger-token", times: 5, want: http.StatusForbidden, reviews: 1, access: 5},
		{name: "a token with metrics-reader", token: "prometheus-token", times: 5, want: http.StatusOK, reviews: 1, access: 5},
		{name: "the API server unreachable", token: "other-token", times: 2, want: http.StatusInternalServerError, reviews: 2, failTokenReviews: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reviewsFail.Store(tc.failTokenReviews)
			r0, a0 := reviews.Load(), accessReviews.Load()
			for range tc.times {
				if code := get(tc.token); code != tc.want {
					t.Fatalf("GET /metrics: %d, want %d", code, tc.want)
				}
			}
			if got := reviews.Load() - r0; got != tc.reviews {
				t.Errorf("%d TokenReviews for %d requests, want %d", got, tc.times, tc.reviews)
			}
			if got := accessReviews.Load() - a0; got != tc.access {
				t.Errorf("%d SubjectAccessReviews for %d requests, want %d", got, tc.times, tc.access)
			}
		})
	}
	if strings.Contains(logs.String(), "goroutine") || strings.Contains(logs.String(), ".go:") || strings.Count(logs.String(), "\n") > 2 {
		t.Errorf("the log has more than a line for each unreachable review, or a stack trace:\n%s", logs.String())
	}
}
