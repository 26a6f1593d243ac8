#!/bin/sh
# lobestack minio-init: idempotent bucket, anonymous-read policy and LobeChat's access key.
# Keys reach mc on its standard input ("piped keys", one per line), never as arguments: mc reads an argument that
# starts with '-' as an option, and arguments show in the process list.
set -eu
printf '%s\n%s\n' "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" | mc alias set local http://minio:9000
mc mb --ignore-existing "local/$S3_BUCKET"
if [ "${S3_SET_ACL:-1}" = "1" ]; then
  # LobeChat reads files from S3_PUBLIC_DOMAIN/<bucket>/<key>: anonymous s3:GetObject on the objects only, never
  # list or write. (Not `mc anonymous set download`: its policy also lets anyone list the bucket, every file's name.)
  cat > /tmp/lobe-read.json <<JSON
{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::$S3_BUCKET/*"]}
]}
JSON
  mc anonymous set-json /tmp/lobe-read.json "local/$S3_BUCKET"
else
  mc anonymous set none "local/$S3_BUCKET"
fi
cat > /tmp/lobe-rw.json <<JSON
{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["s3:GetBucketLocation", "s3:ListBucket"], "Resource": ["arn:aws:s3:::$S3_BUCKET"]},
  {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], "Resource": ["arn:aws:s3:::$S3_BUCKET/*"]}
]}
JSON
mc admin policy create local lobe-rw /tmp/lobe-rw.json
printf '%s\n%s\n' "$S3_ACCESS_KEY_ID" "$S3_SECRET_ACCESS_KEY" | mc admin user add local
mc admin policy attach local lobe-rw --user="$S3_ACCESS_KEY_ID" >/dev/null 2>&1 || true  # already attached
echo "minio-init: bucket $S3_BUCKET ready (anonymous read: ${S3_SET_ACL:-1})"
