import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { OnModuleDestroy } from '@nestjs/common';
import { assertValidArtifactKey, toArtifactFolder } from './artifact-key.util';
import { ArtifactNotFoundError, ArtifactStore } from './artifact-store.types';

export interface S3ArtifactStoreOptions {
  bucket: string;
  region: string;
  /** S3-compatible endpoint (MinIO, s3rver); AWS itself when absent. */
  endpoint?: string;
  /** Both or neither: when absent the SDK default chain applies (environment, profile, instance role). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Attempts per request, retries included; the SDK default (3) when absent. */
  maxAttempts?: number;
}

/** DeleteObjects accepts at most this many keys per request. */
const DELETE_BATCH = 1000;
/** A readiness probe must answer promptly even when the endpoint black-holes packets. */
const PING_TIMEOUT_MS = 5000;

export class S3ArtifactStore implements ArtifactStore, OnModuleDestroy {
  readonly location: string;
  private readonly bucket: string;
  private readonly client: S3Client;

  constructor(options: S3ArtifactStoreOptions) {
    const { bucket, region, endpoint, accessKeyId, secretAccessKey, maxAttempts } = options;
    this.bucket = bucket;
    this.location = endpoint ? `s3://${bucket} at ${endpoint}` : `s3://${bucket}`;
    this.client = new S3Client({
      region,
      endpoint,
      maxAttempts,
      credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
      // Bucket names in the path work with every S3-compatible server, not only those with wildcard DNS.
      forcePathStyle: true,
      // The SDK default sends stream bodies aws-chunked with a trailing checksum, which some S3-compatible
      // servers (s3rver among them) store framing and all; checksums only where an API demands them.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    assertValidArtifactKey(key);
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body }));
  }

  async get(key: string): Promise<Buffer> {
    assertValidArtifactKey(key);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!response.Body) throw new Error(`S3 returned no body for ${key} in ${this.location}`);
      const bytes = await response.Body.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (error) {
      if (isMissingKey(error)) throw new ArtifactNotFoundError(this.location, key);
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    assertValidArtifactKey(key);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (error) {
      // HEAD responses carry no error body, so a missing bucket is indistinguishable here; ping() reports it.
      if (isMissingKey(error)) return false;
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    return (await this.keysIn(toArtifactFolder(prefix))).sort();
  }

  async deletePrefix(prefix: string): Promise<void> {
    const keys = await this.keysIn(toArtifactFolder(prefix));
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      const batch = keys.slice(start, start + DELETE_BATCH);
      const response = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      const failures = response.Errors ?? [];
      if (failures.length > 0) {
        const details = failures.map((f) => `${f.Key}: ${f.Code ?? 'error'} ${f.Message ?? ''}`.trim());
        throw new Error(
          `Could not delete ${failures.length} artifact(s) under ${prefix} in ${this.location}: ${details.join('; ')}`,
        );
      }
    }
  }

  async ping(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), {
        abortSignal: AbortSignal.timeout(PING_TIMEOUT_MS),
      });
    } catch (error) {
      throw new Error(`Artifact store ${this.location} is not ready: ${this.explainPingFailure(error)}`, {
        cause: error,
      });
    }
  }

  /** Closes the client's pooled sockets so the process (or a test run) can exit. */
  onModuleDestroy(): void {
    this.client.destroy();
  }

  private async keysIn(folder: string): Promise<string[]> {
    const keys: string[] = [];
    const pages = paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: folder });
    for await (const page of pages) {
      for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
    }
    return keys;
  }

  private explainPingFailure(error: unknown): string {
    const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
    if (status === 404) return `bucket "${this.bucket}" does not exist`;
    if (status === 403) return `access to bucket "${this.bucket}" is denied (check the credentials)`;
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
      return `no answer within ${PING_TIMEOUT_MS} ms`;
    }
    return describe(error);
  }
}

function isMissingKey(error: unknown): boolean {
  if (!(error instanceof S3ServiceException)) return false;
  if (error.name === 'NoSuchBucket') return false;
  return error.name === 'NoSuchKey' || error.name === 'NotFound' || error.$metadata.httpStatusCode === 404;
}

/** Network failures often arrive with an empty message (AggregateError) and only a code. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  const inner = error instanceof AggregateError ? error.errors.map(describe) : [];
  const parts = [error.message, code && !error.message.includes(code) ? code : '', ...inner].filter(Boolean);
  return parts.length > 0 ? parts.join('; ') : error.name;
}
