import {
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';

const spans = new WeakMap<FastifyRequest, Span>();

/**
 * The server span of each request, from two Fastify hooks instead of OpenTelemetry's HTTP
 * instrumentation (`TRACING_INSTRUMENTATIONS=server`, the default). The HTTP instrumentation patches
 * Node's `http` module and computes a dozen attributes and a response wrapper for every request,
 * sampled or not: on the bench's cost ladder it alone doubled a cached profile read's CPU
 * (docs/tracing.md). Here a request gets the W3C trace context of its caller, a span named after
 * its route (`GET /api/users/:id`), and the span's context for everything it calls (Nest, pg,
 * ioredis, gRPC spans are its children); attributes are set only when the span is sampled.
 * Probes and scrapes get no span.
 */
export function installServerSpans(fastify: FastifyInstance, serviceName: string): void {
  const tracer = trace.getTracer(`murmur-${serviceName}-server`);
  fastify.addHook('onRequest', (req, _reply, done) => {
    const route = req.routeOptions.url;
    if (route === undefined || route.startsWith('/health') || route === '/metrics') {
      done();
      return;
    }
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer.startSpan(`${req.method} ${route}`, { kind: SpanKind.SERVER }, parent);
    if (span.isRecording()) {
      span.setAttributes({
        'http.request.method': req.method,
        'http.route': route,
        'url.path': req.url.split('?')[0],
        'server.port': req.socket.localPort,
        'network.peer.address': req.socket.remoteAddress,
      });
      const requestId = req.headers['x-request-id'];
      if (typeof requestId === 'string' && requestId.length <= 128) {
        span.setAttribute('murmur.request_id', requestId);
      }
    }
    spans.set(req, span);
    context.with(trace.setSpan(parent, span), done);
  });
  fastify.addHook('onResponse', (req, reply, done) => {
    const span = spans.get(req);
    if (span) {
      spans.delete(req);
      if (span.isRecording()) {
        span.setAttribute('http.response.status_code', reply.statusCode);
        if (reply.statusCode >= 500) {
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
      }
      span.end();
    }
    done();
  });
  // A client that goes away before the answer: the span ends anyway.
  fastify.addHook('onRequestAbort', (req, done) => {
    const span = spans.get(req);
    if (span) {
      spans.delete(req);
      span.setAttribute('murmur.aborted', true);
      span.end();
    }
    done();
  });
}
