package conditions

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSetter(t *testing.T) {
	earlier := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	cases := map[string]struct {
		have        []metav1.Condition
		status      metav1.ConditionStatus
		keepsTime   bool
		wantMessage string
	}{
		"new condition":                {status: metav1.ConditionTrue, wantMessage: "now"},
		"same status keeps the time":   {have: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Old", Message: "then", ObservedGeneration: 1, LastTransitionTime: earlier}}, status: metav1.ConditionTrue, keepsTime: true, wantMessage: "now"},
		"status change moves the time": {have: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionFalse, Reason: "Old", Message: "then", ObservedGeneration: 1, LastTransitionTime: earlier}}, status: metav1.ConditionTrue, wantMessage: "now"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			conds := tc.have
			Setter(&conds, 7)("Ready", tc.status, "New", "now")
			if len(conds) != 1 {
				t.Fatalf("got %d conditions, want 1: %+v", len(conds), conds)
			}
			got := conds[0]
			want := metav1.Condition{Type: "Ready", Status: tc.status, Reason: "New", Message: tc.wantMessage, ObservedGeneration: 7, LastTransitionTime: got.LastTransitionTime}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("condition (-want +got):\n%s", diff)
			}
			if tc.keepsTime != got.LastTransitionTime.Equal(&earlier) {
				t.Errorf("lastTransitionTime = %s, kept = %v, want kept = %v", got.LastTransitionTime, got.LastTransitionTime.Equal(&earlier), tc.keepsTime)
			}
		})
	}
}
