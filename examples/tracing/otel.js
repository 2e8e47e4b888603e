'use strict'
// OpenTelemetry spans for vendor-auth's exchanges, from the `vendor-auth:exchange` tracing
// channel (no vendor-auth option needed). Load it once at start-up, after your OpenTelemetry SDK
// (its tracer provider) is set up. Run by __test__/tracing.test.js with an in-memory exporter.

// #region otel
const { tracingChannel } = require('node:diagnostics_channel')
const { trace, SpanStatusCode } = require('@opentelemetry/api')

const tracer = trace.getTracer('vendor-auth')
const spans = new WeakMap()

tracingChannel('vendor-auth:exchange').subscribe({
  start(ctx) {
    const attributes = { 'vendor_auth.provider': ctx.provider, 'vendor_auth.background': ctx.background }
    spans.set(ctx, tracer.startSpan('vendor-auth exchange', { attributes }))
  },
  error(ctx) {
    spans.get(ctx)?.setStatus({ code: SpanStatusCode.ERROR, message: ctx.error.code })
  },
  asyncEnd(ctx) {
    const span = spans.get(ctx)
    span?.setAttributes({ 'vendor_auth.endpoint': ctx.endpoint, 'vendor_auth.attempts': ctx.attempts })
    if (ctx.status !== undefined) span?.setAttribute('http.response.status_code', ctx.status)
    span?.end()
  },
  end() {},
  asyncStart() {},
})
// #endregion
