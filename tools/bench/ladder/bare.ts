/**
 * The ladder's first rung behind NGINX: bare Fastify, one route, no framework around it, on PORT.
 * What a Node process answers at most here; every Murmur step is measured against it.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/*', () => ({ ok: true }));
app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) }).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
