package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-logr/logr"
	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/request/bearertoken"
	"k8s.io/apiserver/pkg/authentication/token/cache"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	authenticationv1 "k8s.io/client-go/kubernetes/typed/authentication/v1"
	authorizationv1 "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// How long the metrics endpoint keeps the API server's answers: a token it vouched for, one it
// refused, and a SubjectAccessReview's allow or deny (controller-runtime's filter keeps the same
// allow and deny, and a vouched token a minute).
const (
	TokenCacheTTL        = time.Minute
	RefusedTokenCacheTTL = 10 * time.Second
	allowCacheTTL        = 5 * time.Minute
	denyCacheTTL         = 30 * time.Second
)

// tokenReviewer authenticates a bearer token with a TokenReview. A token the API server refuses
// (unknown, expired, malformed) is a plain "no", cached like any answer, and answered with 401; only
// a TokenReview that could not be made is an error (500, and retried by the next scrape).
// controller-runtime's filter answers a malformed token with 500 and logs an error with its stack
// trace, asking the API server again at every request.
type tokenReviewer struct {
	reviews authenticationv1.TokenReviewInterface
}

func (t tokenReviewer) AuthenticateToken(ctx context.Context, token string) (*authenticator.Response, bool, error) {
	r, err := t.reviews.Create(ctx, &authnv1.TokenReview{Spec: authnv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
	if err != nil {
		return nil, false, &reviewError{err}
	}
	if !r.Status.Authenticated {
		return nil, false, nil
	}
	u := r.Status.User
	extra := make(map[string][]string, len(u.Extra))
	for k, v := range u.Extra {
		extra[k] = v
	}
	return &authenticator.Response{User: &user.DefaultInfo{Name: u.Username, UID: u.UID, Groups: u.Groups, Extra: extra}}, true, nil
}

// reviewError is a TokenReview that could not be made.
type reviewError struct{ err error }

func (e *reviewError) Error() string { return "reviewing the token: " + e.err.Error() }
func (e *reviewError) Unwrap() error { return e.err }

// NewAuthFilter is the metrics endpoint's filter: a caller the API server authenticates
// (TokenReview) and authorizes to GET the path (SubjectAccessReview), with the answers cached.
func NewAuthFilter(c *rest.Config, hc *http.Client) (metricsserver.Filter, error) {
	authn, err := authenticationv1.NewForConfigAndClient(c, hc)
	if err != nil {
		return nil, err
	}
	authz, err := authorizationv1.NewForConfigAndClient(c, hc)
	if err != nil {
		return nil, err
	}
	// SubjectAccessReviews, their answers cached, as controller-runtime's filter asks them.
	az, err := authorizerfactory.DelegatingAuthorizerConfig{
		SubjectAccessReviewClient: authz,
		AllowCacheTTL:             allowCacheTTL,
		DenyCacheTTL:              denyCacheTTL,
		WebhookRetryBackoff:       &wait.Backoff{Duration: 500 * time.Millisecond, Factor: 1.5, Jitter: 0.2, Steps: 5},
	}.New()
	if err != nil {
		return nil, err
	}
	return newAuthFilter(authn.TokenReviews(), az), nil
}

func newAuthFilter(reviews authenticationv1.TokenReviewInterface, az authorizer.Authorizer) metricsserver.Filter {
	tokens := bearertoken.New(cache.New(tokenReviewer{reviews}, false, TokenCacheTTL, RefusedTokenCacheTTL))
	return func(log logr.Logger, next http.Handler) (http.Handler, error) {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			res, ok, err := tokens.AuthenticateRequest(req)
			if review := (*reviewError)(nil); errors.As(err, &review) {
				// The API server could not be asked: say so, without a stack trace.
				log.Info("Authenticating a metrics request failed", "error", err.Error())
				http.Error(w, "Authentication failed", http.StatusInternalServerError)
				return
			}
			if !ok {
				// No token, or one the API server refused ("invalid bearer token").
				http.Error(w, "Unauthorized", http.StatusUnauthorized)
				return
			}
			attrs := authorizer.AttributesRecord{User: res.User, Verb: strings.ToLower(req.Method), Path: req.URL.Path}
			decision, _, err := az.Authorize(req.Context(), attrs)
			switch {
			case err != nil:
				log.Info("Authorizing a metrics request failed", "user", res.User.GetName(), "error", err.Error())
				http.Error(w, "Authorization failed", http.StatusInternalServerError)
			case decision != authorizer.DecisionAllow:
				http.Error(w, fmt.Sprintf("Authorization denied for user %s", res.User.GetName()), http.StatusForbidden)
			default:
				next.ServeHTTP(w, req)
			}
		}), nil
	}
}
