package api

import (
	"context"
	"maps"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/decisionlog"
	"github.com/verdict-pdp/verdict/internal/tracing"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// newDecisionID is a decision's id when decisions are logged or traced,
// else "" (a random UUID costs; nobody would read it).
func (s *Server) newDecisionID() string {
	if !s.decisionIDs {
		return ""
	}
	return decisionlog.NewID()
}

// withDecisionID returns d with its id in context.decision_id. The context
// is copied: answers from the decision cache share theirs.
func withDecisionID(d decision.Decision, id string) decision.Decision {
	ctx := make(map[string]any, len(d.Context)+1)
	maps.Copy(ctx, d.Context)
	ctx["decision_id"] = id
	d.Context = ctx
	return d
}

// startDecision opens the span of one decision (each item of a batch has
// its own) under the request's, when that one records: the facts read and
// the policy evaluation are its children.
func startDecision(ctx context.Context, id string, req *authzen.Request) (context.Context, trace.Span) {
	ctx, span := tracing.Child(ctx, "verdict.decision")
	if span.IsRecording() {
		attrs := []attribute.KeyValue{tracing.DecisionIDKey.String(id), attribute.String("verdict.org", req.Org())}
		if req.Resource != nil {
			attrs = append(attrs, attribute.String("verdict.resource.type", req.Resource.Type))
		}
		if req.Action != nil {
			attrs = append(attrs, attribute.String("verdict.action", req.Action.Name))
		}
		span.SetAttributes(attrs...)
	}
	return ctx, span
}

// endDecision records the answer on the decision's span and ends it. A
// failure to decide (a deny because something failed) marks the span
// failed; a deny by the rules does not.
func endDecision(span trace.Span, d decision.Decision, err error) {
	if span.IsRecording() {
		span.SetAttributes(attribute.Bool("verdict.decision", d.Decision))
		if r, ok := d.Context["reason"].(string); ok {
			span.SetAttributes(attribute.String("verdict.reason", r))
		}
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, string(verr.CodeOf(err)))
		}
	}
	span.End()
}
