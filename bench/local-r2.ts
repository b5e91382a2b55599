/**
 * A local R2 bucket for benches in Node: workerd's own R2 (through Miniflare,
 * in a child process), reached with one HTTP request per bucket operation, as
 * a Worker's binding reaches R2.
 *
 * Miniflare's `getR2Bucket()` proxy is not used: it makes every property read
 * of a returned R2Object a synchronous round trip to workerd, and sends the
 * whole ArrayBuffer behind a Uint8Array view, which would charge the proxy's
 * costs to the code being measured.
 *
 * Only what the extraction step uses is implemented: head, put (with an
 * onlyIf condition of plain values), and multipart uploads (create,
 * uploadPart, complete, abort).
 */
import { Miniflare } from "miniflare";

/** The Worker inside workerd that does the bucket operations. */
const BUCKET_WORKER = `
const describe = (o) => o && { key: o.key, size: o.size, etag: o.etag, httpEtag: o.httpEtag, version: o.version, customMetadata: o.customMetadata ?? {} };
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const key = decodeURIComponent(url.pathname.slice(1));
    const metadata = request.headers.get("x-custom-metadata");
    const customMetadata = metadata ? JSON.parse(metadata) : undefined;
    const condition = request.headers.get("x-only-if");
    const onlyIf = condition ? JSON.parse(condition) : undefined;
    const upload = () => env.BUCKET.resumeMultipartUpload(key, url.searchParams.get("upload"));
    switch (url.searchParams.get("op")) {
      case "head": return Response.json(describe(await env.BUCKET.head(key)));
      case "put": return Response.json(describe(await env.BUCKET.put(key, await request.arrayBuffer(), { customMetadata, onlyIf })));
      case "create": return Response.json({ uploadId: (await env.BUCKET.createMultipartUpload(key, { customMetadata })).uploadId });
      case "part": return Response.json(await upload().uploadPart(Number(url.searchParams.get("part")), await request.arrayBuffer()));
      case "complete": return Response.json(describe(await upload().complete(await request.json())));
      case "abort": await upload().abort(); return Response.json(null);
      default: return new Response("unknown op", { status: 400 });
    }
  },
};
`;

export interface LocalR2 {
  bucket: R2Bucket;
  dispose(): Promise<void>;
}

export async function startLocalR2(): Promise<LocalR2> {
  const mf = new Miniflare({ modules: true, script: BUCKET_WORKER, r2Buckets: ["BUCKET"] });
  await mf.ready;

  interface CallInit {
    body?: Uint8Array | string;
    query?: Record<string, string>;
    metadata?: Record<string, string>;
    onlyIf?: R2Conditional;
  }

  async function call<T>(key: string, op: string, init: CallInit = {}): Promise<T> {
    const query = new URLSearchParams({ op, ...init.query });
    const headers: Record<string, string> = {};
    if (init.metadata) headers["x-custom-metadata"] = JSON.stringify(init.metadata);
    if (init.onlyIf) headers["x-only-if"] = JSON.stringify(init.onlyIf);
    const response = await mf.dispatchFetch(`http://bucket/${encodeURIComponent(key)}?${query}`, { method: "POST", headers, body: init.body });
    if (!response.ok) throw new Error(`local R2 ${op} ${key}: HTTP ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  const bucket = {
    head: (key: string) => call<R2Object | null>(key, "head"),
    // null when the onlyIf condition fails, as the binding answers.
    put: (key: string, body: Uint8Array, options?: R2PutOptions) =>
      call<R2Object | null>(key, "put", {
        body,
        metadata: options?.customMetadata as Record<string, string> | undefined,
        onlyIf: options?.onlyIf as R2Conditional | undefined,
      }),
    async createMultipartUpload(key: string, options?: R2MultipartOptions) {
      const { uploadId } = await call<{ uploadId: string }>(key, "create", { metadata: options?.customMetadata });
      const query = { upload: uploadId };
      return {
        key,
        uploadId,
        uploadPart: (partNumber: number, body: Uint8Array) => call<R2UploadedPart>(key, "part", { body, query: { ...query, part: String(partNumber) } }),
        complete: (parts: R2UploadedPart[]) => call<R2Object>(key, "complete", { body: JSON.stringify(parts), query }),
        abort: () => call<null>(key, "abort", { query }).then(() => undefined),
      };
    },
  };
  // The operations above are all the extraction step calls.
  return { bucket: bucket as unknown as R2Bucket, dispose: () => mf.dispose() };
}
