import { Controller, Get, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@murmur/auth';
import { defineService } from '@murmur/http';
import { LADDER_CONFIGS } from './ladder.config';

/**
 * The bench's cost ladder (issue 14): the same Murmur service composition with one more part per
 * step, each answering a route that does nothing, so that the difference between two steps is
 * that part's cost per request.
 *   nest      the HTTP core (Fastify under Nest, problem+json, deadlines, load shedding, metrics,
 *             pino-http), no guard
 *   session   + AuthGuard: the session lookup (the session cache, or one Redis call)
 *   ratelimit + the per-caller limit (every route: per user, or per address without a session;
 *             one Redis script)
 * Tracing and logging are the next steps, switched by TRACING_ENABLED and LOG_LEVEL.
 */
@Controller('api/users/ladder')
class NothingController {
  @Get('nothing')
  nothing(): { ok: true } {
    return { ok: true };
  }
}

@Controller('api/users/ladder')
@UseGuards(AuthGuard)
class SessionController {
  @Get('session')
  session(): { ok: true } {
    return { ok: true };
  }
}

export const nestLadder = defineService(LADDER_CONFIGS.nest, () => ({
  databaseReadiness: false,
  features: [{ module: class NothingModule {}, controllers: [NothingController] }],
}));
export const sessionLadder = defineService(LADDER_CONFIGS.session, () => ({
  databaseReadiness: false,
  features: [
    { module: class SessionModule {}, controllers: [NothingController, SessionController] },
  ],
}));
export const rateLimitLadder = defineService(LADDER_CONFIGS.ratelimit, () => ({
  databaseReadiness: false,
  features: [
    { module: class RateLimitedModule {}, controllers: [NothingController, SessionController] },
  ],
}));
