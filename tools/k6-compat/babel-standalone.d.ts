// babel-standalone 6.26 ships no types: the part the k6 compiler check uses.
declare module 'babel-standalone' {
  interface TransformResult {
    code: string;
    metadata: {
      modules: {
        imports: Array<{ source: string }>;
        exports: { specifiers: Array<{ source?: string }> };
      };
    };
  }
  export function transform(source: string, options: Record<string, unknown>): TransformResult;
}
