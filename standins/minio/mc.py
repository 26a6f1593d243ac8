"""`mc` -- lobestack STAND-IN for the MinIO client: the subset lobestack's scripts use, same syntax and exit codes.

NOT the real mc. Commands:
  mc ready ALIAS
  mc alias set ALIAS URL [ACCESS [SECRET]] [--api S3v4] [--path auto|on|off]  (missing keys: stdin, one a line)
  mc alias list|ls [ALIAS] ; mc alias remove|rm ALIAS
  mc mb [--ignore-existing|-p] ALIAS/BUCKET
  mc rb [--force] ALIAS/BUCKET
  mc anonymous set download|upload|public|none ALIAS/BUCKET[/PREFIX]
  mc anonymous set-json FILE ALIAS/BUCKET[/PREFIX]
  mc anonymous get ALIAS/BUCKET ; mc anonymous get-json ALIAS/BUCKET
  mc ls [ALIAS[/BUCKET[/PREFIX]]]
  mc admin user add ALIAS [ACCESS [SECRET]]  (missing keys: stdin, one a line)
  mc admin policy create ALIAS NAME FILE
  mc admin policy attach ALIAS NAME [NAME...] --user ACCESS
Aliases live in ~/.mc/config.json (or --config-dir / MC_CONFIG_DIR); MC_HOST_<alias>=http://AK:SK@host:port works.
Like mc's default configuration, the alias "local" is http://127.0.0.1:9000 WITHOUT credentials (anonymous requests:
enough for `mc ready local`); give it credentials with `mc alias set` or MC_HOST_local, as with the real mc.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

PROG = "mc"
STANDIN = "lobestack mc stand-in (NOT the MinIO client)"


class McError(Exception):
    pass


def die(msg: str, code: int = 1) -> None:
    raise McError(msg)


# --------------------------------------------------------------------------- config
def config_dir(opts: dict) -> str:
    return opts.get("config_dir") or os.environ.get("MC_CONFIG_DIR") or os.path.join(os.path.expanduser("~"), ".mc")


def load_config(opts: dict) -> dict:
    path = os.path.join(config_dir(opts), "config.json")
    try:
        with open(path, encoding="utf-8") as fh:
            cfg = json.load(fh)
    except FileNotFoundError:
        cfg = {}
    except ValueError as exc:
        die(f"Unable to parse {path}: {exc}")
    cfg.setdefault("version", "10")
    cfg.setdefault("aliases", {})
    return cfg


def save_config(opts: dict, cfg: dict) -> None:
    d = config_dir(opts)
    os.makedirs(d, mode=0o700, exist_ok=True)
    path = os.path.join(d, "config.json")
    tmp = path + ".tmp"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as fh:
        json.dump(cfg, fh, indent="\t")
        fh.write("\n")
    os.replace(tmp, path)


def resolve_alias(opts: dict, alias: str) -> dict:
    env = os.environ.get(f"MC_HOST_{alias}")
    if env:
        u = urllib.parse.urlsplit(env)
        netloc = u.hostname + (f":{u.port}" if u.port else "")
        return {
            "url": f"{u.scheme}://{netloc}",
            "accessKey": urllib.parse.unquote(u.username or ""),
            "secretKey": urllib.parse.unquote(u.password or ""),
        }
    cfg = load_config(opts)
    if alias in cfg["aliases"]:
        return cfg["aliases"][alias]
    if alias == "local":  # mc's default alias (what the MinIO image's healthcheck `mc ready local` uses)
        return {"url": "http://127.0.0.1:9000", "accessKey": "", "secretKey": ""}
    die(f"Unable to get alias `{alias}`: no such alias. Use `mc alias set` first.")
    return {}


def split_target(target: str) -> tuple[str, str, str]:
    """ALIAS/BUCKET/PREFIX -> (alias, bucket, prefix)"""
    parts = target.split("/", 2)
    alias = parts[0]
    bucket = parts[1] if len(parts) > 1 else ""
    prefix = parts[2] if len(parts) > 2 else ""
    return alias, bucket, prefix


# --------------------------------------------------------------------------- clients
def s3_client(al: dict):
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    anonymous = not (al.get("accessKey") and al.get("secretKey"))  # mc sends unsigned requests without keys
    return boto3.client(
        "s3",
        endpoint_url=al["url"],
        aws_access_key_id=al.get("accessKey") or None,
        aws_secret_access_key=al.get("secretKey") or None,
        region_name=os.environ.get("MC_REGION", "us-east-1"),
        config=Config(
            s3={"addressing_style": "path"},
            signature_version=UNSIGNED if anonymous else "s3v4",
            retries={"max_attempts": 2},
            connect_timeout=5,
            read_timeout=30,
        ),
        verify=not _INSECURE[0],
    )


_INSECURE = [False]


def client_error(exc) -> str:
    err = getattr(exc, "response", {}).get("Error", {})
    return err.get("Message") or err.get("Code") or str(exc)


def admin_call(al: dict, method: str, op: str, query: dict | None = None, body: dict | None = None) -> dict:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = al["url"].rstrip("/") + "/minio/admin/v3/" + op
    if query:
        url += "?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
    data = json.dumps(body).encode() if body is not None else b""
    req = AWSRequest(method=method, url=url, data=data, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(al.get("accessKey", ""), al.get("secretKey", "")), "s3", "us-east-1").add_auth(req)
    ureq = urllib.request.Request(
        url, data=data if method in ("PUT", "POST") else None, method=method, headers=dict(req.headers.items())
    )
    try:
        with urllib.request.urlopen(ureq, timeout=30) as resp:
            raw = resp.read()
    except urllib.error.HTTPError as exc:
        raw = exc.read().decode(errors="replace")
        import re

        m = re.search(r"<Message>(.*?)</Message>", raw, re.S)
        die(m.group(1) if m else f"HTTP {exc.code}: {raw[:200]}")
    except (urllib.error.URLError, OSError) as exc:
        die(f"Unable to reach {al['url']}: {exc}")
    return json.loads(raw) if raw else {}


def canned_anonymous_policy(perm: str, bucket: str, prefix: str) -> dict | None:
    """The documents real `mc anonymous set` writes (minio-go pkg/policy)."""
    bres = f"arn:aws:s3:::{bucket}"
    ores = f"arn:aws:s3:::{bucket}/{prefix}*"
    anyone = {"AWS": ["*"]}
    stm = []
    list_stmt = {"Effect": "Allow", "Principal": anyone, "Action": ["s3:ListBucket"], "Resource": [bres]}
    if prefix:
        list_stmt["Condition"] = {"StringEquals": {"s3:prefix": [prefix]}}
    if perm == "download":
        stm = [
            {"Effect": "Allow", "Principal": anyone, "Action": ["s3:GetBucketLocation"], "Resource": [bres]},
            list_stmt,
            {"Effect": "Allow", "Principal": anyone, "Action": ["s3:GetObject"], "Resource": [ores]},
        ]
    elif perm == "upload":
        stm = [
            {
                "Effect": "Allow",
                "Principal": anyone,
                "Action": ["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
                "Resource": [bres],
            },
            {
                "Effect": "Allow",
                "Principal": anyone,
                "Action": ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:ListMultipartUploadParts", "s3:PutObject"],
                "Resource": [ores],
            },
        ]
    elif perm == "public":
        stm = [
            {
                "Effect": "Allow",
                "Principal": anyone,
                "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                "Resource": [bres],
            },
            {
                "Effect": "Allow",
                "Principal": anyone,
                "Action": [
                    "s3:AbortMultipartUpload",
                    "s3:DeleteObject",
                    "s3:GetObject",
                    "s3:ListMultipartUploadParts",
                    "s3:PutObject",
                ],
                "Resource": [ores],
            },
        ]
    elif perm in ("none", "private"):
        return None
    else:
        die(f"Unrecognized permission `{perm}`. Allowed values are [private, public, download, upload, none].")
    return {"Version": "2012-10-17", "Statement": stm}


def human(n: int) -> str:
    v = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if v < 1024 or unit == "TiB":
            return f"{int(v)}{unit}" if unit == "B" else f"{v:.1f}{unit}"
        v /= 1024
    return f"{n}B"


# --------------------------------------------------------------------------- commands
def cmd_ready(opts, args):
    if not args:
        die("Not enough arguments. Usage: mc ready ALIAS")
    al = resolve_alias(opts, args[0])
    url = al["url"].rstrip("/") + "/minio/health/live"
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            if resp.status == 200:
                out(opts, "The cluster is ready", {"status": "success", "healthy": True})
                return 0
    except (urllib.error.URLError, OSError) as exc:
        out(opts, f"The cluster is unreachable: {exc}", {"status": "error", "healthy": False})
        return 1
    out(opts, "The cluster is not ready", {"status": "error", "healthy": False})
    return 1


def cmd_alias(opts, args):
    if not args:
        die("Not enough arguments. Usage: mc alias set|list|remove ...")
    sub, rest = args[0], args[1:]
    if sub == "set" or sub == "s":
        pos = []
        it = iter(rest)
        for a in it:
            if a in ("--api", "--path"):
                next(it, None)
            elif a.startswith("--api=") or a.startswith("--path="):
                pass
            elif a.startswith("-"):  # like mc (Go's flag package): any other dash argument is an unknown flag
                die("flag provided but not defined (an argument that starts with '-'; not shown: it may be a key)")
            else:
                pos.append(a)
        if not 2 <= len(pos) <= 4:
            die(
                "Incorrect number of arguments for alias set command. Usage: mc alias set ALIAS URL ACCESSKEY SECRETKEY"
            )
        alias, url = pos[:2]
        ak, sk = piped_keys(pos[2:])
        if not url.startswith(("http://", "https://")):
            die(f"Invalid URL `{url}`. URL scheme must be http or https.")
        entry = {"url": url.rstrip("/"), "accessKey": ak, "secretKey": sk, "api": "s3v4", "path": "auto"}
        try:  # like mc: the credentials are checked against the server before the alias is saved
            s3_client(entry).list_buckets()
        except Exception as exc:
            die(f"Unable to initialize new alias from the provided credentials. {client_error(exc)}")
        cfg = load_config(opts)
        cfg["aliases"][alias] = entry
        save_config(opts, cfg)
        out(opts, f"Added `{alias}` successfully.", {"status": "success", "alias": alias, "URL": entry["url"]})
        return 0
    if sub in ("list", "ls"):
        cfg = load_config(opts)
        for name, a in cfg["aliases"].items():
            if rest and name != rest[0]:
                continue
            print(
                f"{name}\n  URL       : {a['url']}\n  AccessKey : {a['accessKey']}\n  SecretKey : "
                f"{a['secretKey']}\n  API       : {a.get('api', 's3v4')}\n  Path      : {a.get('path', 'auto')}\n"
            )
        return 0
    if sub in ("remove", "rm"):
        cfg = load_config(opts)
        if not rest or rest[0] not in cfg["aliases"]:
            die(f"No such alias `{rest[0] if rest else ''}` found.")
        del cfg["aliases"][rest[0]]
        save_config(opts, cfg)
        out(opts, f"Removed `{rest[0]}` successfully.", {"status": "success", "alias": rest[0]})
        return 0
    die(f"`{sub}` is not a recognized command. Get help using `--help` flag.")
    return 1


def piped_keys(given: list[str]) -> tuple[str, str]:
    """Access and secret key: those on the command line, the rest read from stdin one a line, like mc's
    fetchAliasKeys / fetchUserKeys (Go's ReadLine: the line without its \\n or \\r\\n)."""
    keys = list(given)
    while len(keys) < 2:
        keys.append(sys.stdin.readline().rstrip("\r\n"))
    return keys[0], keys[1]


def _flags(args, known_bool, known_val=()):
    flags, pos = {}, []
    it = iter(args)
    for a in it:
        name = a.lstrip("-")
        if a.startswith("-") and "=" in name:
            k, v = name.split("=", 1)
            flags[k] = v
        elif a.startswith("-") and name in known_val:
            flags[name] = next(it, "")
        elif a.startswith("-") and name in known_bool:
            flags[name] = True
        elif a.startswith("-"):
            die(f"flag provided but not defined: {a}")
        else:
            pos.append(a)
    return flags, pos


def cmd_mb(opts, args):
    flags, pos = _flags(args, ("ignore-existing", "p", "with-lock", "l", "with-versioning"), ("region",))
    if not pos:
        die("Not enough arguments. Usage: mc mb [--ignore-existing] ALIAS/BUCKET")
    ignore = bool(flags.get("ignore-existing") or flags.get("p"))
    for target in pos:
        alias, bucket, _ = split_target(target)
        if not bucket:
            die(f"Unable to make bucket `{target}`. Bucket name cannot be empty.")
        s3 = s3_client(resolve_alias(opts, alias))
        try:
            exists = True
            try:
                s3.head_bucket(Bucket=bucket)
            except Exception as exc:
                if getattr(exc, "response", {}).get("Error", {}).get("Code", "") not in ("404", "NoSuchBucket"):
                    raise
                exists = False
            if exists:
                from botocore.exceptions import ClientError

                raise ClientError({"Error": {"Code": "BucketAlreadyOwnedByYou", "Message": "exists"}}, "CreateBucket")
            s3.create_bucket(Bucket=bucket)
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
            if code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists") and ignore:
                out(opts, f"Bucket created successfully `{alias}/{bucket}`.", {"status": "success", "bucket": bucket})
                continue
            if code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                die(
                    f"Unable to make bucket `{alias}/{bucket}`. Your previous request to create the named bucket "
                    "succeeded and you already own it."
                )
            die(f"Unable to make bucket `{alias}/{bucket}`. {client_error(exc)}")
        out(opts, f"Bucket created successfully `{alias}/{bucket}`.", {"status": "success", "bucket": bucket})
    return 0


def cmd_rb(opts, args):
    flags, pos = _flags(args, ("force", "dangerous"))
    if not pos:
        die("Not enough arguments. Usage: mc rb [--force] ALIAS/BUCKET")
    for target in pos:
        alias, bucket, _ = split_target(target)
        s3 = s3_client(resolve_alias(opts, alias))
        try:
            if flags.get("force"):
                for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                    for o in page.get("Contents", []):
                        s3.delete_object(Bucket=bucket, Key=o["Key"])
            s3.delete_bucket(Bucket=bucket)
        except Exception as exc:
            die(f"Unable to remove bucket `{target}`. {client_error(exc)}")
        out(opts, f"Removed `{target}` successfully.", {"status": "success"})
    return 0


def _get_policy(s3, bucket):
    try:
        return json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        if code == "NoSuchBucketPolicy":
            return None
        die(f"Unable to get policy of `{bucket}`. {client_error(exc)}")
    return None


def cmd_anonymous(opts, args):
    if not args:
        die("Not enough arguments. Usage: mc anonymous set|set-json|get|get-json ...")
    sub, rest = args[0], args[1:]
    if sub == "set-json":
        # mc: the file's bytes (at most 120 KiB) are the bucket policy, sent as they are (cmd/anonymous-main.go)
        if len(rest) != 2:
            die("Incorrect number of arguments. Usage: mc anonymous set-json FILE ALIAS/BUCKET[/PREFIX]")
        path, target = rest
        alias, bucket, _prefix = split_target(target)
        try:
            with open(path, "rb") as f:
                text = f.read(120 * 1024 + 1)
        except OSError:
            die(f"Unable to set anonymous for `{target}`.")
        if len(text) > 120 * 1024:
            die(f"Unable to set-json anonymous `{path}` for `{target}`. bytes.Buffer: too large")
        s3 = s3_client(resolve_alias(opts, alias))
        try:
            s3.put_bucket_policy(Bucket=bucket, Policy=text.decode("utf-8"))
        except Exception as exc:
            die(f"Unable to set-json anonymous `{path}` for `{target}`. {client_error(exc)}")
        out(
            opts,
            f"Access permission for `{target}` is set from `{path}`",
            {"status": "success", "operation": "set-json", "bucket": target, "permission": path},
        )
        return 0
    if sub == "set":
        if len(rest) != 2:
            die("Incorrect number of arguments. Usage: mc anonymous set PERMISSION ALIAS/BUCKET[/PREFIX]")
        perm, target = rest
        alias, bucket, prefix = split_target(target)
        doc = canned_anonymous_policy(perm, bucket, prefix)
        s3 = s3_client(resolve_alias(opts, alias))
        try:
            if doc is None:
                s3.delete_bucket_policy(Bucket=bucket)
            else:
                s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(doc))
        except Exception as exc:
            die(f"Unable to set anonymous permission `{perm}` on `{target}`. {client_error(exc)}")
        out(
            opts,
            f"Access permission for `{target}` is set to `{perm}`",
            {"status": "success", "operation": "set", "permission": perm, "url": target},
        )
        return 0
    if sub in ("get", "get-json"):
        if len(rest) != 1:
            die(f"Incorrect number of arguments. Usage: mc anonymous {sub} ALIAS/BUCKET[/PREFIX]")
        alias, bucket, prefix = split_target(rest[0])
        s3 = s3_client(resolve_alias(opts, alias))
        try:
            s3.head_bucket(Bucket=bucket)
        except Exception as exc:
            die(f"Unable to get policy of `{rest[0]}`. {client_error(exc)}")
        doc = _get_policy(s3, bucket)
        if sub == "get-json":
            print(json.dumps(doc or {}, indent=1))
            return 0
        perm = "private"
        if doc:
            perm = "custom"
            for cand in ("download", "upload", "public"):
                if canned_anonymous_policy(cand, bucket, prefix) == doc:
                    perm = cand
        out(opts, f"Access permission for `{rest[0]}` is `{perm}`", {"status": "success", "permission": perm})
        return 0
    die(f"`{sub}` is not a recognized command. Get help using `--help` flag.")
    return 1


def cmd_ls(opts, args):
    flags, pos = _flags(args, ("recursive", "r", "versions", "incomplete", "I", "summarize"))
    recursive = bool(flags.get("recursive") or flags.get("r"))
    targets = pos or [a for a in load_config(opts)["aliases"]]
    rc = 0
    for target in targets:
        alias, bucket, prefix = split_target(target.rstrip("/") if target.count("/") < 2 else target)
        s3 = s3_client(resolve_alias(opts, alias))
        try:
            if not bucket:
                for b in s3.list_buckets().get("Buckets", []):
                    ts = b["CreationDate"].strftime("%Y-%m-%d %H:%M:%S UTC")
                    print(f"[{ts}]     0B {b['Name']}/")
                continue
            kw = {"Bucket": bucket, "Prefix": prefix}
            if not recursive:
                kw["Delimiter"] = "/"
            for page in s3.get_paginator("list_objects_v2").paginate(**kw):
                for p in page.get("CommonPrefixes", []):
                    print(f"[{'':23}]     0B {p['Prefix'][len(prefix) :] if not recursive else p['Prefix']}")
                for o in page.get("Contents", []):
                    ts = o["LastModified"].strftime("%Y-%m-%d %H:%M:%S UTC")
                    name = o["Key"] if recursive else o["Key"][len(prefix) :]
                    print(f"[{ts}] {human(o['Size']):>6} {o.get('StorageClass', 'STANDARD')} {name}")
        except McError:
            raise
        except Exception as exc:
            print(f"{PROG}: <ERROR> Unable to list folder. {client_error(exc)}", file=sys.stderr)
            rc = 1
    return rc


def cmd_admin(opts, args):
    if not args:
        die("Not enough arguments. Usage: mc admin user|policy ...")
    grp, rest = args[0], args[1:]
    if grp == "user" and rest and rest[0] == "add":
        if not 2 <= len(rest) <= 4:
            die(
                "Incorrect number of arguments for user add command. Usage: mc admin user add ALIAS ACCESSKEY SECRETKEY"
            )
        alias = rest[1]
        ak, sk = piped_keys(rest[2:])
        admin_call(
            resolve_alias(opts, alias), "PUT", "add-user", {"accessKey": ak}, {"secretKey": sk, "status": "enabled"}
        )
        out(opts, f"Added user `{ak}` successfully.", {"status": "success", "accessKey": ak})
        return 0
    if grp == "user" and rest and rest[0] in ("list", "ls"):
        users = admin_call(resolve_alias(opts, rest[1] if len(rest) > 1 else "local"), "GET", "list-users")
        for ak, info in users.items():
            print(f"{info.get('status', 'enabled'):<8} {ak:<20} {info.get('policyName', '')}")
        return 0
    if grp == "user" and rest and rest[0] in ("remove", "rm"):
        if len(rest) != 3:
            die("Usage: mc admin user remove ALIAS ACCESSKEY")
        admin_call(resolve_alias(opts, rest[1]), "DELETE", "remove-user", {"accessKey": rest[2]})
        out(opts, f"Removed user `{rest[2]}` successfully.", {"status": "success"})
        return 0
    if grp == "policy" and rest and rest[0] in ("create", "add"):
        if len(rest) != 4:
            die(
                "Incorrect number of arguments for policy create command. Usage: mc admin policy create ALIAS "
                "POLICYNAME POLICYFILE"
            )
        _, alias, name, path = rest
        try:
            with open(path, encoding="utf-8") as fh:
                doc = json.load(fh)
        except OSError as exc:
            die(f"Unable to read the policy document. {exc}")
        except ValueError as exc:
            die(f"Unable to parse the policy document. {exc}")
        admin_call(resolve_alias(opts, alias), "PUT", "add-canned-policy", {"name": name}, doc)
        out(opts, f"Created policy `{name}` successfully.", {"status": "success", "policy": name})
        return 0
    if grp == "policy" and rest and rest[0] == "attach":
        flags, pos = _flags(rest[1:], (), ("user", "u", "group", "g"))
        user = flags.get("user") or flags.get("u")
        if flags.get("group") or flags.get("g"):
            die("policy attach --group is not supported by the lobestack mc stand-in")
        if len(pos) < 2 or not user:
            die("Usage: mc admin policy attach ALIAS POLICY [POLICY...] --user USER")
        alias, names = pos[0], pos[1:]
        res = admin_call(
            resolve_alias(opts, alias), "POST", "idp/builtin/policy/attach", body={"policies": names, "user": user}
        )
        print(f"Attached Policies: [{' '.join(res.get('policiesAttached', names))}]\nTo User: {user}")
        return 0
    if grp == "policy" and rest and rest[0] in ("list", "ls"):
        pols = admin_call(resolve_alias(opts, rest[1] if len(rest) > 1 else "local"), "GET", "list-canned-policies")
        for name in pols:
            print(name)
        return 0
    if grp == "info":
        admin_call(resolve_alias(opts, rest[0] if rest else "local"), "GET", "info")
        print("●  lobestack minio stand-in\n   Uptime: n/a\n   Version: lobestack-standin")
        return 0
    die(f"`{' '.join(args[:2])}` is not a recognized command. Get help using `--help` flag.")
    return 1


COMMANDS = {
    "ready": cmd_ready,
    "alias": cmd_alias,
    "mb": cmd_mb,
    "rb": cmd_rb,
    "anonymous": cmd_anonymous,
    "ls": cmd_ls,
    "admin": cmd_admin,
}


def out(opts: dict, text: str, obj: dict) -> None:
    if opts.get("json"):
        print(json.dumps(obj))
    elif not opts.get("quiet"):
        print(text)


def main(argv: list[str]) -> int:
    opts: dict = {}
    args: list[str] = []
    it = iter(argv)
    for a in it:  # global flags, anywhere on the line like urfave/cli does for mc
        if a in ("--json",):
            opts["json"] = True
        elif a in ("--quiet", "-q"):
            opts["quiet"] = True
        elif a in ("--insecure",):
            _INSECURE[0] = True
        elif a in ("--no-color", "--disable-pager", "--dp", "--debug"):
            pass
        elif a in ("--config-dir", "-C"):
            opts["config_dir"] = next(it, "")
        elif a.startswith("--config-dir="):
            opts["config_dir"] = a.split("=", 1)[1]
        else:
            args.append(a)
    if not args or args[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    if args[0] in ("--version", "-v", "version"):
        print(f"mc version RELEASE.2025-04-16T18-13-26Z ({STANDIN})")
        return 0
    fn = COMMANDS.get(args[0])
    if fn is None:
        print(
            f"{PROG}: <ERROR> `{args[0]}` is not a recognized command. Get help using `--help` flag. ({STANDIN})",
            file=sys.stderr,
        )
        return 1
    try:
        return fn(opts, args[1:])
    except McError as exc:
        if opts.get("json"):
            print(json.dumps({"status": "error", "error": {"message": str(exc)}}))
        else:
            print(f"{PROG}: <ERROR> {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
