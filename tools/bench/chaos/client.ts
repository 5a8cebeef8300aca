/**
 * The chaos suite's HTTP side: a small client for the edge with a per-request timeout, users who
 * log in again when a lost session store forgets them, and a recorder of every answer by the
 * fault window it fell in.
 */
import { randomBytes } from 'node:crypto';

/** Every request gives up after this: a hang must show as a timeout, not stall the suite. */
export const REQUEST_TIMEOUT_MS = 5_000;

export interface Answer<T = unknown> {
  /** HTTP status, or 0 for a network error and -1 for a timeout */
  status: number;
  body: T;
}

/** Answers by window (a fault's name) and by status. */
export class Recorder {
  window = 'setup';
  readonly counts = new Map<string, Map<string, number>>();

  record(status: number): void {
    const key = status === -1 ? 'timeout' : status === 0 ? 'error' : String(status);
    const byStatus = this.counts.get(this.window) ?? new Map<string, number>();
    byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
    this.counts.set(this.window, byStatus);
  }
}

export class Edge {
  constructor(
    readonly baseUrl: string,
    readonly recorder: Recorder,
  ) {}

  async call<T = unknown>(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Answer<T>> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      ...options.headers,
    };
    if (options.token) {
      headers.authorization = `Bearer ${options.token}`;
    }
    let answer: Answer<T>;
    try {
      const res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await res.text();
      let body: unknown = text;
      if ((res.headers.get('content-type') ?? '').includes('json') && text.length > 0) {
        body = JSON.parse(text);
      }
      answer = { status: res.status, body: body as T };
    } catch (error) {
      const name = (error as Error).name;
      answer = {
        status: name === 'TimeoutError' || name === 'AbortError' ? -1 : 0,
        body: undefined as T,
      };
    }
    this.recorder.record(answer.status);
    return answer;
  }
}

export interface ChaosUser {
  id: string;
  username: string;
  password: string;
  token: string;
}

/** Sign up and log in, retrying until both are acknowledged (the stack may be mid-fault). */
export async function newUser(edge: Edge, prefix: string): Promise<ChaosUser> {
  const username = `${prefix}_${randomBytes(5).toString('hex')}`;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  let id: string | undefined;
  while (id === undefined) {
    const res = await edge.call<{ id: string }>('POST', '/api/users', {
      body: { username, email: `${username}@chaos.murmur.test`, password },
    });
    if (res.status === 201) {
      id = res.body.id;
    } else if (res.status === 409) {
      throw new Error(`sign-up of ${username} conflicted`);
    } else {
      await sleep(200);
    }
  }
  const user = { id, username, password, token: '' };
  await login(edge, user);
  return user;
}

export async function login(edge: Edge, user: ChaosUser): Promise<void> {
  for (;;) {
    const res = await edge.call<{ token: string }>('POST', '/api/sessions', {
      body: { username: user.username, password: user.password },
    });
    if (res.status === 201) {
      user.token = res.body.token;
      return;
    }
    await sleep(200);
  }
}

/** A call as `user`; a 401 (the session store lost its sessions) logs in again and retries. */
export async function asUser<T = unknown>(
  edge: Edge,
  user: ChaosUser,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const res = await edge.call<T>(method, path, { ...options, token: user.token });
  if (res.status !== 401) {
    return res;
  }
  await login(edge, user);
  return edge.call<T>(method, path, { ...options, token: user.token });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
