import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import protobuf from 'protobufjs';

export interface ReceivedSpan {
  service: string;
  scope: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** 1 internal, 2 server, 3 client, 4 producer, 5 consumer */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  links: Array<{ traceId: string; spanId: string }>;
}

interface DecodedKeyValue {
  key: string;
  value?: {
    stringValue?: string;
    boolValue?: boolean;
    intValue?: string | number;
    doubleValue?: number;
  };
}

interface DecodedSpan {
  traceId: Uint8Array;
  spanId: Uint8Array;
  parentSpanId: Uint8Array;
  name: string;
  kind: number;
  attributes?: DecodedKeyValue[];
  links?: Array<{ traceId: Uint8Array; spanId: Uint8Array }>;
}

interface DecodedRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: DecodedKeyValue[] };
    scopeSpans?: Array<{ scope?: { name: string }; spans?: DecodedSpan[] }>;
  }>;
}

const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('hex');

function attrs(list: DecodedKeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const kv of list ?? []) {
    const v = kv.value ?? {};
    out[kv.key] =
      v.stringValue ??
      v.boolValue ??
      (v.intValue !== undefined ? Number(v.intValue) : (v.doubleValue ?? ''));
  }
  return out;
}

/**
 * A real OTLP/HTTP (protobuf) trace receiver inside the test process: services export to it as
 * they would to Jaeger's collector, and tests assert on the spans it decoded.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  private server?: Server;
  private readonly type: protobuf.Type;

  constructor() {
    const root = protobuf.parse(readFileSync(path.join(__dirname, 'otlp.proto'), 'utf8'), {
      keepCase: false,
    }).root;
    this.type = root.lookupType('otlp.ExportTraceServiceRequest');
  }

  async listen(port: number, host = '127.0.0.1'): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/v1/traces') {
          try {
            this.ingest(Buffer.concat(chunks));
          } catch {
            res.writeHead(400).end();
            return;
          }
        }
        res.writeHead(200, { 'Content-Type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, host, () => resolve());
    });
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) {
      return;
    }
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // The services' exporters keep their connections alive and may be mid-request: without
      // this, close() waits for them (and a suite's afterAll hit its 60 s timeout).
      server.closeAllConnections();
    });
  }

  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  private ingest(body: Buffer): void {
    const decoded = this.type.toObject(this.type.decode(body), {
      longs: String,
      bytes: Array,
    }) as DecodedRequest;
    for (const rs of decoded.resourceSpans ?? []) {
      const service = String(attrs(rs.resource?.attributes)['service.name'] ?? 'unknown');
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          this.spans.push({
            service,
            scope: ss.scope?.name ?? '',
            traceId: hex(Uint8Array.from(s.traceId ?? [])),
            spanId: hex(Uint8Array.from(s.spanId ?? [])),
            parentSpanId: hex(Uint8Array.from(s.parentSpanId ?? [])),
            name: s.name,
            kind: s.kind ?? 0,
            attributes: attrs(s.attributes),
            links: (s.links ?? []).map((l) => ({
              traceId: hex(Uint8Array.from(l.traceId)),
              spanId: hex(Uint8Array.from(l.spanId)),
            })),
          });
        }
      }
    }
  }
}
