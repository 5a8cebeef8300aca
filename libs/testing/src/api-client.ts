import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  contentType: string;
}

export interface RequestOptions {
  body?: unknown;
  /** sent as-is instead of JSON.stringify(body) */
  rawBody?: string;
  token?: string;
  headers?: Record<string, string>;
}

export interface ApiClientOptions {
  /**
   * The client's own address: another loopback address (127.0.0.2, …) makes this client another
   * client address to NGINX and to the services, as a second machine would be.
   */
  localAddress?: string;
}

/** A small client for Murmur's HTTP API (through NGINX in end-to-end tests). */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly options: ApiClientOptions = {},
  ) {}

  async request<T = unknown>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    // The headers the k6 scripts send (loadtests/k6/lib/api.js), as many real clients do:
    // `Content-Type: application/json` on every request, bodiless POST/PUT/DELETE included, so
    // that every test exercises what load tests and clients send.
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      ...options.headers,
    };
    let body: string | undefined;
    if (options.rawBody !== undefined) {
      body = options.rawBody;
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
    }
    if (options.token) {
      headers.authorization = `Bearer ${options.token}`;
    }
    const res = await this.send(`${this.baseUrl}${path}`, method, headers, body);
    const contentType = res.headers.get('content-type') ?? '';
    const text = res.text;
    let parsed: unknown = text;
    if (contentType.includes('json') && text.length > 0) {
      parsed = JSON.parse(text);
    }
    return { status: res.status, headers: res.headers, body: parsed as T, contentType };
  }

  private async send(
    url: string,
    method: string,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<{ status: number; headers: Headers; text: string }> {
    const localAddress = this.options.localAddress;
    if (localAddress === undefined) {
      const res = await fetch(url, { method, headers, body });
      return { status: res.status, headers: res.headers, text: await res.text() };
    }
    // fetch cannot choose its source address: node:http can.
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, { method, headers, localAddress }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const h = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
              h.append(name, v);
            }
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: h,
            text: Buffer.concat(chunks).toString(),
          });
        });
      });
      req.on('error', reject);
      req.setTimeout(30_000, () => req.destroy(new Error(`no answer from ${url} in 30 s`)));
      req.end(body);
    });
  }

  /** A user's score on the `posters` board (its top 100), undefined when not on it. */
  async posterScore(userId: string): Promise<number | undefined> {
    const res = await this.request<{ entries: Array<{ userId: string; score: number }> }>(
      'GET',
      '/api/leaderboards/posters?limit=100',
    );
    return res.body.entries.find((e) => e.userId === userId)?.score;
  }

  /** Register a fresh user and log in; returns the id, name and token. */
  async newUser(
    prefix = 'u',
  ): Promise<{ id: string; username: string; token: string; password: string }> {
    const username = `${prefix}_${randomBytes(6).toString('hex')}`;
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const created = await this.untilAdmitted(() =>
      this.request<{ id: string }>('POST', '/api/users', {
        body: { username, email: `${username}@example.test`, password },
      }),
    );
    if (created.status !== 201) {
      throw new Error(`register failed: ${created.status} ${JSON.stringify(created.body)}`);
    }
    const session = await this.untilAdmitted(() =>
      this.request<{ token: string }>('POST', '/api/sessions', {
        body: { username, password },
      }),
    );
    if (session.status !== 201) {
      throw new Error(`login failed: ${session.status} ${JSON.stringify(session.body)}`);
    }
    return { id: created.body.id, username, token: session.body.token, password };
  }

  /**
   * Send again while the answer is load shedding (503 `overloaded` with Retry-After), as a real
   * client does: a burst (sign-ups on a cold test stack, argon2 on 2 cores; 80 likes at once
   * while the rest of the suite runs) may be shed, and the test is about what comes after. Any
   * other answer, a 503 of another kind included, is returned as it is.
   */
  async untilAdmitted<T>(send: () => Promise<ApiResponse<T>>): Promise<ApiResponse<T>> {
    let res = await send();
    for (let retry = 0; retry < 5 && isShed(res); retry++) {
      await new Promise((done) => setTimeout(done, 200 * (retry + 1)));
      res = await send();
    }
    return res;
  }
}

function isShed(res: ApiResponse<unknown>): boolean {
  return (
    res.status === 503 &&
    res.headers.get('retry-after') !== null &&
    (res.body as { code?: string } | undefined)?.code === 'overloaded'
  );
}
