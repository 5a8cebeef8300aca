import type { FastifyInstance } from 'fastify';

/**
 * Headers every answer of a service carries. `X-Content-Type-Options: nosniff`: a browser must
 * take an answer as the type it says (JSON, problem+json) and never sniff it into HTML or script.
 * HSTS is the edge's (NGINX sends it on HTTPS answers): a service behind it does not know the
 * scheme the browser used.
 */
export function installSecurityHeaders(fastify: FastifyInstance): void {
  fastify.addHook('onSend', (_req, reply, payload, done) => {
    reply.header('x-content-type-options', 'nosniff');
    done(null, payload);
  });
}
