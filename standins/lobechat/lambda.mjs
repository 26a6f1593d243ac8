// lobestack STAND-IN: the part of LobeChat 1.143.3's tRPC "lambda" router that uploads a file, as the browser
// uses it (src/server/routers/lambda/{upload,file,document}.ts of @lobehub/chat@1.143.3), on the same libraries
// (@trpc/server 11, superjson, zod 3), so the wire format is LobeChat's: httpBatchLink requests
// `POST /trpc/lambda/<procedure>?batch=1` with `{"0":{"json":<input>}}`, answers
// `[{"result":{"data":{"json":<output>,"meta"?:…}}}]` or `[{"error":{"json":{"message","code","data":{"code",
// "httpStatus","path"}}}}]`. Procedures that are not emulated answer tRPC's own 404 (NOT_FOUND).
import crypto from 'node:crypto';
import os from 'node:os';

import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { TRPCError, initTRPC } from '@trpc/server';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import superjson from 'superjson';
import { z } from 'zod';

const env = process.env;

// src/libs/logger (pino): one JSON line per message
const pinoInfo = (msg) =>
  console.log(JSON.stringify({ hostname: os.hostname(), level: 30, msg, pid: process.pid, time: Date.now() }));

// src/envs/file.ts and src/config/db.ts
const fileEnv = {
  S3_ACCESS_KEY_ID: env.S3_ACCESS_KEY_ID,
  S3_BUCKET: env.S3_BUCKET,
  S3_ENABLE_PATH_STYLE: env.S3_ENABLE_PATH_STYLE === '1',
  S3_ENDPOINT: env.S3_ENDPOINT,
  S3_PREVIEW_URL_EXPIRE_IN: Number(env.S3_PREVIEW_URL_EXPIRE_IN || 7200),
  S3_PUBLIC_DOMAIN: env.S3_PUBLIC_DOMAIN,
  S3_REGION: env.S3_REGION,
  S3_SECRET_ACCESS_KEY: env.S3_SECRET_ACCESS_KEY,
  S3_SET_ACL: env.S3_SET_ACL !== '0',
};
// @t3-oss/env-nextjs validates these when the route's modules load: an empty or malformed URL fails every request
// of the route ('Invalid url' in the log). The stand-in checks them per request, with the same schema.
function checkFileEnv() {
  const parsed = z
    .object({ S3_ENDPOINT: z.string().url().optional(), S3_PUBLIC_DOMAIN: z.string().url().optional() })
    .safeParse({ S3_ENDPOINT: env.S3_ENDPOINT, S3_PUBLIC_DOMAIN: env.S3_PUBLIC_DOMAIN || env.NEXT_PUBLIC_S3_DOMAIN });
  if (!parsed.success) {
    console.error('❌ Invalid environment variables:', parsed.error.flatten().fieldErrors);
    throw new Error('Invalid environment variables');
  }
}

// (sic) LobeChat 1.143.3 reads DISABLE_REMOVE_GLOBAL_FILE this way round
const REMOVE_GLOBAL_FILE = env.DISABLE_REMOVE_GLOBAL_FILE !== '0';

// src/libs/trpc/lambda/init.ts
const trpc = initTRPC.context().create({
  errorFormatter({ shape, error }) {
    if (error.cause && 'data' in error.cause) {
      return { ...shape, data: { ...shape.data, errorData: error.cause.data } };
    }
    return shape;
  },
  transformer: superjson,
});

// src/libs/trpc/middleware/userAuth.ts: no user id, UNAUTHORIZED
const authedProcedure = trpc.procedure.use(async (opts) => {
  const { ctx } = opts;
  if (!ctx.userId) {
    console.log('next auth:', ctx.nextAuth);
    throw new TRPCError({ code: 'UNAUTHORIZED' });
  }
  return opts.next({ ctx: { userId: ctx.userId } });
});

// src/server/modules/S3
class S3 {
  constructor() {
    if (!fileEnv.S3_ACCESS_KEY_ID || !fileEnv.S3_SECRET_ACCESS_KEY || !fileEnv.S3_BUCKET)
      throw new Error('S3 environment variables are not set completely, please check your env');
    this.bucket = fileEnv.S3_BUCKET;
    this.setAcl = fileEnv.S3_SET_ACL;
    this.client = new S3Client({
      credentials: { accessKeyId: fileEnv.S3_ACCESS_KEY_ID, secretAccessKey: fileEnv.S3_SECRET_ACCESS_KEY },
      endpoint: fileEnv.S3_ENDPOINT,
      forcePathStyle: fileEnv.S3_ENABLE_PATH_STYLE,
      region: fileEnv.S3_REGION || 'us-east-1',
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  deleteFile(key) {
    return this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async getFileByteArray(key) {
    const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    if (!response.Body) throw new Error(`No body in response with ${key}`);
    return response.Body.transformToByteArray();
  }

  createPreSignedUrl(key) {
    const command = new PutObjectCommand({
      ACL: this.setAcl ? 'public-read' : undefined,
      Bucket: this.bucket,
      Key: key,
    });
    return getSignedUrl(this.client, command, { expiresIn: 3600 });
  }

  createPreSignedUrlForPreview(key, expiresIn) {
    const command = new GetObjectCommand({ Bucket: this.bucket, Key: key });
    return getSignedUrl(this.client, command, { expiresIn: expiresIn ?? fileEnv.S3_PREVIEW_URL_EXPIRE_IN });
  }
}

// src/server/services/file/impls/s3.ts (S3StaticFileImpl)
const urlJoin = (...parts) =>
  parts
    .map((p, i) => (i === 0 ? String(p).replace(/\/+$/, '') : String(p).replace(/^\/+|\/+$/g, '')))
    .join('/');

function getKeyFromFullUrl(url) {
  try {
    const { pathname } = new URL(url);
    if (fileEnv.S3_ENABLE_PATH_STYLE) {
      if (!fileEnv.S3_BUCKET) return pathname.startsWith('/') ? pathname.slice(1) : pathname;
      const bucketPrefix = `/${fileEnv.S3_BUCKET}/`;
      if (pathname.startsWith(bucketPrefix)) return pathname.slice(bucketPrefix.length);
      return pathname.startsWith('/') ? pathname.slice(1) : pathname;
    }
    return pathname.slice(1);
  } catch {
    return url;
  }
}

async function getFullFileUrl(url, expiresIn) {
  if (!url) return '';
  const key = url.startsWith('http://') || url.startsWith('https://') ? getKeyFromFullUrl(url) : url;
  if (!fileEnv.S3_SET_ACL) return new S3().createPreSignedUrlForPreview(key, expiresIn);
  if (fileEnv.S3_ENABLE_PATH_STYLE) return urlJoin(fileEnv.S3_PUBLIC_DOMAIN, fileEnv.S3_BUCKET, key);
  return urlJoin(fileEnv.S3_PUBLIC_DOMAIN, key);
}

// packages/database/src/utils/idGenerator.ts: `<prefix>_<nanoid>` over [0-9a-zA-Z]
const ID_ALPHABET = '1234567890abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const idGenerator = (prefix, size = 12) =>
  `${prefix}_${Array.from(crypto.randomBytes(size), (b) => ID_ALPHABET[b % ID_ALPHABET.length]).join('')}`;

// The tables of packages/database/src/schemas/{file,document}.ts that these procedures touch (the columns they use).
export const LAMBDA_TABLES = `
  CREATE TABLE IF NOT EXISTS global_files (
    hash_id varchar(64) PRIMARY KEY, file_type varchar(255) NOT NULL, size integer NOT NULL, url text NOT NULL,
    metadata jsonb, creator text NOT NULL REFERENCES users(id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(), accessed_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE IF NOT EXISTS files (
    id text PRIMARY KEY, user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    file_type varchar(255) NOT NULL, file_hash varchar(64) REFERENCES global_files(hash_id), name text NOT NULL,
    size integer NOT NULL, url text NOT NULL, source text, client_id text, metadata jsonb,
    chunk_task_id uuid, embedding_task_id uuid, accessed_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE IF NOT EXISTS documents (
    id varchar(30) PRIMARY KEY, title text, content text, file_type varchar(255) NOT NULL, filename text,
    total_char_count integer NOT NULL, total_line_count integer NOT NULL, metadata jsonb, pages jsonb,
    source_type text NOT NULL, source text NOT NULL, file_id text REFERENCES files(id) ON DELETE SET NULL,
    user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE, client_id text, editor_data jsonb,
    accessed_at timestamptz NOT NULL DEFAULT now(), created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now());`;

const camel = (row) =>
  row && Object.fromEntries(Object.entries(row).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c) => c.toUpperCase()), v]));

// packages/database/src/models/file.ts (FileModel), the methods these procedures call
class FileModel {
  constructor(pool, userId) {
    this.pool = pool;
    this.userId = userId;
  }

  async checkHash(hash) {
    const { rows } = await this.pool.query('SELECT * FROM global_files WHERE hash_id = $1 LIMIT 1', [hash]);
    const item = rows[0];
    if (!item) return { isExist: false };
    return { fileType: item.file_type, isExist: true, metadata: item.metadata, size: item.size, url: item.url };
  }

  async create(params, insertToGlobalFiles) {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      if (insertToGlobalFiles) {
        await client.query(
          'INSERT INTO global_files (hash_id, file_type, size, url, metadata, creator) VALUES ($1,$2,$3,$4,$5,$6)',
          [params.fileHash, params.fileType, params.size, params.url, params.metadata ?? null, this.userId],
        );
      }
      const { rows } = await client.query(
        `INSERT INTO files (id, user_id, file_type, file_hash, name, size, url, metadata)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id`,
        [idGenerator('file'), this.userId, params.fileType, params.fileHash ?? null, params.name, params.size,
          params.url, params.metadata ?? null],
      );
      await client.query('COMMIT');
      return { id: rows[0].id };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async findById(id) {
    const { rows } = await this.pool.query('SELECT * FROM files WHERE id = $1 AND user_id = $2', [id, this.userId]);
    return camel(rows[0]);
  }

  // returns the file only when its global file was removed too (then the caller deletes it from S3)
  async delete(id, removeGlobalFile = true) {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query('SELECT * FROM files WHERE id = $1 AND user_id = $2', [id, this.userId]);
      const file = camel(rows[0]);
      if (!file) {
        await client.query('COMMIT');
        return undefined;
      }
      await client.query('UPDATE documents SET file_id = NULL WHERE file_id = $1', [id]);
      await client.query('DELETE FROM files WHERE id = $1 AND user_id = $2', [id, this.userId]);
      const count = await client.query('SELECT count(*)::int AS n FROM files WHERE file_hash = $1', [file.fileHash]);
      let removed;
      if (count.rows[0].n === 0 && removeGlobalFile) {
        await client.query('DELETE FROM global_files WHERE hash_id = $1', [file.fileHash]);
        removed = file;
      }
      await client.query('COMMIT');
      return removed;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }
}

// packages/file-loaders: the text loader (every type the stand-in parses is read as text, as its DefaultLoader)
function loadTextFile(content, filename) {
  const lines = content.split('\n');
  const pages = [
    {
      charCount: content.length,
      lineCount: lines.length,
      metadata: { lineNumberEnd: lines.length, lineNumberStart: 1 },
      pageContent: content,
    },
  ];
  return {
    content: pages.map((p) => p.pageContent).join('\n'),
    fileType: (filename.split('.').length > 1 ? filename.split('.').at(-1) : '').toLowerCase(),
    metadata: {},
    pages,
    totalCharCount: content.length,
    totalLineCount: lines.length,
  };
}

// src/server/services/file (FileService.downloadFileToLocal) + src/server/services/document (parseFile)
async function parseFile(pool, userId, fileId) {
  const fileModel = new FileModel(pool, userId);
  const file = await fileModel.findById(fileId);
  if (!file) throw new TRPCError({ code: 'BAD_REQUEST', message: 'File not found' });

  let content;
  try {
    content = await new S3().getFileByteArray(file.url);
  } catch (e) {
    console.error(e);
    if (e.Code === 'NoSuchKey') {
      await fileModel.delete(fileId, REMOVE_GLOBAL_FILE);
      throw new TRPCError({ code: 'BAD_REQUEST', message: 'File not found' });
    }
  }
  // LobeChat's answer to ANY failed read (an untrusted certificate, an unreachable S3_ENDPOINT, …): misleading
  if (!content) throw new TRPCError({ code: 'BAD_REQUEST', message: 'File content is empty' });

  const doc = loadTextFile(Buffer.from(content).toString('utf8'), file.name);
  const { rows } = await pool.query(
    `INSERT INTO documents (id, content, file_id, file_type, metadata, pages, source, source_type, title,
       total_char_count, total_line_count, user_id)
     VALUES ($1,$2,$3,$4,$5,$6,$7,'file',$8,$9,$10,$11) RETURNING *`,
    [idGenerator('docs', 16), doc.content, fileId, file.fileType, JSON.stringify(doc.metadata),
      JSON.stringify(doc.pages), file.url, doc.metadata?.title ?? null, doc.totalCharCount, doc.totalLineCount,
      userId],
  );
  return camel(rows[0]);
}

const UploadFileSchema = z.object({
  fileType: z.string(),
  hash: z.string().optional(),
  knowledgeBaseId: z.string().optional(),
  metadata: z.any().optional(),
  name: z.string(),
  size: z.number(),
  url: z.string().optional(),
});

export function lambdaRouter(pool) {
  const fileProcedure = authedProcedure.use(async (opts) =>
    opts.next({ ctx: { fileModel: new FileModel(pool, opts.ctx.userId) } }),
  );
  return trpc.router({
    document: trpc.router({
      parseFileContent: authedProcedure
        .input(z.object({ id: z.string(), skipExist: z.boolean().optional() }))
        .mutation(async ({ ctx, input }) => parseFile(pool, ctx.userId, input.id)),
    }),
    file: trpc.router({
      checkFileHash: fileProcedure
        .input(z.object({ hash: z.string() }))
        .mutation(async ({ ctx, input }) => ctx.fileModel.checkHash(input.hash)),
      createFile: fileProcedure
        .input(UploadFileSchema.omit({ url: true }).extend({ url: z.string() }))
        .mutation(async ({ ctx, input }) => {
          const { isExist } = await ctx.fileModel.checkHash(input.hash);
          const { id } = await ctx.fileModel.create(
            {
              fileHash: input.hash,
              fileType: input.fileType,
              metadata: input.metadata,
              name: input.name,
              size: input.size,
              url: input.url,
            },
            !isExist,
          );
          return { id, url: await getFullFileUrl(input.url) };
        }),
      findById: fileProcedure.input(z.object({ id: z.string() })).query(async ({ ctx, input }) => {
        const item = await ctx.fileModel.findById(input.id);
        if (!item) throw new TRPCError({ code: 'BAD_REQUEST', message: 'File not found' });
        return { ...item, url: await getFullFileUrl(item?.url) };
      }),
      removeFile: fileProcedure.input(z.object({ id: z.string() })).mutation(async ({ ctx, input }) => {
        const file = await ctx.fileModel.delete(input.id, REMOVE_GLOBAL_FILE);
        if (!file) return;
        await new S3().deleteFile(file.url);
      }),
    }),
    healthcheck: trpc.procedure.query(() => "i'm live!"),
    upload: trpc.router({
      createS3PreSignedUrl: authedProcedure
        .input(z.object({ pathname: z.string() }))
        .mutation(async ({ input }) => new S3().createPreSignedUrl(input.pathname)),
    }),
  });
}

// src/app/(backend)/trpc/lambda/[trpc]/route.ts
export function lambdaHandler(pool, userIdOf) {
  const router = lambdaRouter(pool);
  return (request, nodeReq) => {
    checkFileEnv();
    return fetchRequestHandler({
      createContext: async () => ({ userId: await userIdOf(nodeReq) }),
      endpoint: '/trpc/lambda',
      onError: ({ error, path, type }) => {
        pinoInfo(`Error in tRPC handler (lambda) on path: ${path}, type: ${type}`);
        console.error(error);
      },
      req: request,
      router,
    });
  };
}
