/** What a repository gets to run parameterised SQL on: a pool, a transaction or a replica. */
export interface Sql {
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
}

export interface QueryRunnerLike {
  query(text: string, params?: unknown[]): Promise<unknown>;
}

/**
 * TypeORM's raw query answers UPDATE/DELETE … RETURNING on Postgres with `[rows, rowCount]`
 * and everything else with `rows`; repositories always get the rows.
 */
export function rowsOf<T>(result: unknown): T[] {
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}

export function toSql(runner: QueryRunnerLike): Sql {
  return {
    query: async <T>(text: string, params?: readonly unknown[]) =>
      rowsOf<T>(await runner.query(text, params ? [...params] : undefined)),
  };
}
