"""`lobestack` (or `python -m lobestack`): render a deployment directory (init), provision a running one (provision),
check a deployment with the shipped suites (check), and regenerate the check catalogue (catalogue)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from lobestack.errors import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_INTERNAL, EXIT_OK, BadInput


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line and exit 4, not argparse's usage dump and exit 2
        raise BadInput(f"{message} (see `{self.prog} --help`)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lobestack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    init = sub.add_parser("init", help="render a deployment directory with fresh secrets")
    init.add_argument("--app-domain", required=True, help="LobeChat's public name, e.g. lobe.example.com")
    init.add_argument("--auth-domain", required=True, help="Logto's public name, e.g. auth.example.com")
    init.add_argument("--s3-domain", help="the S3 API's public name (default: s3.<parent of --app-domain>)")
    init.add_argument("--admin-port", type=int, default=8443, help="HTTPS port of the Logto console (8443)")
    init.add_argument(
        "--cert-dir",
        default="/etc/letsencrypt/live",
        help="where <name>/fullchain.pem and privkey.pem live (/etc/letsencrypt/live)",
    )
    init.add_argument("--cert-name", help="one certificate (a SAN or wildcard one) for every vhost")
    init.add_argument("--logto-client-id", default="", help="AUTH_LOGTO_ID, when the Logto app exists already")
    init.add_argument("--logto-client-secret", default="", help="AUTH_LOGTO_SECRET, with --logto-client-id")
    init.add_argument("--extra-ca", type=Path, help="PEM bundle of a private CA the containers must trust")
    init.add_argument("--project-name", default="lobestack", help="Compose project name (lobestack)")
    init.add_argument("--out", required=True, help="the deployment directory to write")
    init.add_argument("--force", action="store_true", help="replace an existing .env (a backup is kept)")

    provision = sub.add_parser(
        "provision",
        help="create LobeChat's Logto application (and what it needs) in a running deployment; write .env",
        description="Steps 4.2/4.3 of the guide through Logto's own interfaces, idempotent: the first admin (when "
        "asked), a machine-to-machine app for the Management API, LobeChat's app with its redirect URIs, "
        "AUTH_LOGTO_ID/SECRET in .env (lobe recreated when they change), MinIO's bucket, policy and key verified. "
        "The console admin's credentials come from LOBESTACK_LOGTO_ADMIN_USERNAME / LOBESTACK_LOGTO_ADMIN_PASSWORD "
        "(needed on the first run, or when .env's LOGTO_PROVISION_APP_ID/SECRET no longer work).",
    )
    provision.add_argument("--deployment", type=Path, required=True, help="the deployment directory (.env)")
    provision.add_argument("--plan", action="store_true", help="print what would change; change nothing")
    provision.add_argument(
        "--create-admin",
        action="store_true",
        help="create Logto's first admin when there is none (LOBESTACK_LOGTO_ADMIN_USERNAME/_PASSWORD)",
    )
    provision.add_argument(
        "--test-user", action="store_true", help="create a user (LOBESTACK_TEST_USER/_PASSWORD) if it does not exist"
    )
    provision.add_argument(
        "--no-breached-password-check",
        dest="offline_passwords",
        action="store_true",
        help="turn off Logto's breached-password check (api.pwnedpasswords.com) for sign-up and password resets: "
        "for installs without internet",
    )
    provision.add_argument("--app-name", default="LobeChat", help="name of LobeChat's Logto application (LobeChat)")
    provision.add_argument(
        "--no-recreate", dest="recreate", action="store_false", help="never recreate lobe (say how instead)"
    )
    provision.add_argument(
        "--resolve", action="append", default=[], metavar="NAME:ADDR", help="connect to NAME at ADDR (curl --resolve)"
    )
    provision.add_argument(
        "--ca-file", type=Path, help="CA to trust besides the system store (default: the deployment's ca/extra-ca.pem)"
    )

    images = sub.add_parser(
        "images", help="build a locally built image set (what --images reference|standin runs), with progress"
    )
    images.add_argument(
        "--images",
        dest="image_set",
        choices=("reference", "standin"),
        default="reference",
        help="reference: real LobeChat and real Logto from their published sources (about 30 min cold) with the "
        "MinIO stand-in; standin: the fast set, stand-ins for LobeChat, Logto and MinIO (default: reference)",
    )
    images.add_argument("--rebuild", action="store_true", help="build even when an image is up to date")
    images.add_argument(
        "--extra-ca", type=Path, help="CA bundle that npm/pip in the build stages trust (default: the host's bundle)"
    )

    layer = sub.add_parser("layer", help="say which layers exist (a tox env of an unbuilt layer calls this)")
    layer.add_argument("name", choices=("static", "stack", "e2e", "prod", "host", "gpu"))

    sub.add_parser("stacks", help="list the ephemeral stacks on this host: running, kept, or left by a dead run")
    down = sub.add_parser("down", help="remove an ephemeral stack (kept with --keep-stack, or left behind)")
    down.add_argument("project", help="its Compose project, lobestack-ephemeral-<id> (see `lobestack stacks`)")

    # Parsed by _check, not here: everything after the layer goes to pytest as it is; this entry is for --help.
    check = sub.add_parser(
        "check",
        help="run a layer's shipped suites through pytest: lobestack check [LAYER] --deployment DIR [pytest options…]",
    )
    check.add_argument("layer", nargs="?", choices=tuple(LAYER_RUNS), default="static")

    catalogue = sub.add_parser("catalogue", help="write docs/checks.md from the check registry")
    catalogue.add_argument("--out", type=Path, default=Path("docs/checks.md"))
    return parser


def _init(args: argparse.Namespace) -> int:
    from lobestack.render import inputs
    from lobestack.render.bundle import Settings, render

    if not args.out.strip():
        raise BadInput("--out is empty (an unset variable?): name the deployment directory to write")
    app_domain = inputs.hostname("--app-domain", args.app_domain.lower())
    s3_domain = args.s3_domain.lower() if args.s3_domain is not None else inputs.s3_name_for(app_domain)
    settings = Settings(
        app_domain=app_domain,
        auth_domain=args.auth_domain.lower(),
        s3_domain=s3_domain,
        admin_port=args.admin_port,
        cert_dir=inputs.nginx_path("--cert-dir", args.cert_dir).rstrip("/"),
        cert_name=args.cert_name,
        logto_client_id=args.logto_client_id,
        logto_client_secret=args.logto_client_secret,
        extra_ca=args.extra_ca,
        project_name=args.project_name,
    )
    out = Path(args.out)
    written = render(settings, out, force=args.force)
    print(f"lobestack init: wrote {len(written)} files to {out}/")
    for path in written:
        print(f"  {path}")
    print("next:")
    if not settings.logto_client_id:
        print(
            f"  - after `docker compose up -d`: python -m lobestack provision --deployment {args.out} --create-admin "
            "(LobeChat's Logto app; AUTH_LOGTO_ID/SECRET in .env)"
        )
    print(
        f"  - install nginx/*.conf into Nginx; certificates for {settings.app_domain}, {settings.auth_domain}, "
        f"{settings.s3_domain} under {settings.cert_dir}"
    )
    print(f"  - check it: lobestack check static --deployment {out}")
    return EXIT_OK


def _provision(args: argparse.Namespace) -> int:
    from lobestack.deployment import load_deployment
    from lobestack.probes.http import HttpProbe
    from lobestack.provision import Options, ProvisionFailed, describe, provision
    from lobestack.targets.live import parse_resolve

    resolve = parse_resolve(args.resolve)
    if args.ca_file is not None and not args.ca_file.is_file():
        raise BadInput("--ca-file: not a readable file", args.ca_file)
    deployment = load_deployment(args.deployment)
    ca_file = args.ca_file
    if ca_file is None:
        extra = deployment.env.get("EXTRA_CA_FILE") or "./ca/extra-ca.pem"
        ca_file = (args.deployment / extra) if not Path(extra).is_absolute() else Path(extra)
    options = Options(
        create_admin=args.create_admin,
        test_user=args.test_user,
        offline_passwords=args.offline_passwords,
        plan=args.plan,
        app_name=args.app_name,
        recreate=args.recreate,
    )
    mode = "plan (nothing is changed)" if args.plan else "provision"
    print(f"lobestack provision: {args.deployment} — {mode}")
    try:
        report = provision(args.deployment, HttpProbe(resolve=resolve, ca_file=ca_file), options)
    except ProvisionFailed as exc:
        print(f"lobestack: provision failed: {exc}", file=sys.stderr)
        return EXIT_CHECK_FAILED
    print(f"lobestack provision: {describe(report)}")
    return EXIT_OK


def _images(args: argparse.Namespace) -> int:
    from lobestack.targets.images import SET_DESCRIPTIONS, ImageBuildError, checkout_dir, ensure_images, specs_for

    if args.extra_ca is not None and not args.extra_ca.is_file():
        raise BadInput("file not found", args.extra_ca)
    checkout_dir()  # an installation without the build contexts stops here, in one line
    print(f"lobestack images: the {args.image_set} set ({SET_DESCRIPTIONS[args.image_set]})", flush=True)
    t0 = time.monotonic()
    try:
        built = ensure_images(
            specs_for(args.image_set),
            extra_ca=args.extra_ca,
            rebuild=args.rebuild,
            progress=lambda line: print(line, flush=True),
        )
    except ImageBuildError as exc:
        print(f"lobestack: error: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
    print(f"lobestack images: {len(built)} built, in {time.monotonic() - t0:.1f} s")
    return EXIT_OK


def _stacks(args: argparse.Namespace) -> int:
    from lobestack.targets.runs import KEEP_LABEL, OWNER_LABEL, WORKDIR_LABEL, ephemeral_projects, owner_alive

    projects = ephemeral_projects()
    if not projects:
        print("lobestack: no ephemeral stack on this host")
    for project, labels in sorted(projects.items()):
        owner = labels.get(OWNER_LABEL, "")
        state = (
            "kept"
            if labels.get(KEEP_LABEL) == "1"
            else ("in use by run " + owner if owner and owner_alive(owner) else "left behind (its run is gone)")
        )
        print(f"{project}  {state}  {labels.get(WORKDIR_LABEL, '')}")
    return EXIT_OK


def _down(args: argparse.Namespace) -> int:
    from lobestack.targets.runs import PROJECT_PREFIX, WORKDIR_LABEL, ephemeral_projects, remove_project

    projects = ephemeral_projects()
    if not args.project.startswith(PROJECT_PREFIX) or args.project not in projects:
        known = ", ".join(sorted(projects)) or "none"
        raise BadInput(f"no ephemeral stack {args.project!r} on this host (there are: {known})")
    remove_project(args.project, projects[args.project].get(WORKDIR_LABEL))
    print(f"lobestack: removed {args.project} (containers, networks, volumes, work directory)")
    return EXIT_OK


def _catalogue(args: argparse.Namespace) -> int:
    from lobestack.checks.catalogue import render_catalogue

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render_catalogue(), encoding="utf-8")
    print(f"lobestack catalogue: wrote {args.out}")
    return EXIT_OK


# The layers of the verification suite that exist; the rest are on the roadmap (README, Roadmap).
BUILT_LAYERS = {"static", "stack", "e2e", "host", "gpu", "prod"}
EXIT_LAYER_MISSING = 5  # pytest's "no tests collected": nothing was checked


def _layer(args: argparse.Namespace) -> int:
    if args.name in BUILT_LAYERS:
        print(f"lobestack: the {args.name} layer exists: tox -e {args.name}")
        return EXIT_OK
    print(
        f"lobestack: the {args.name} layer is not built yet (see README, Roadmap); nothing was checked", file=sys.stderr
    )
    return EXIT_LAYER_MISSING


# `lobestack check LAYER`: the suites it runs and the options it adds (what lobestack's own tox envs run), and the
# extras it needs whatever the target.
LAYER_RUNS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    # The gate leaves out plugins it has no use for: they are most of its start-up.
    "static": (
        ("lobestack.suites.static",),
        ("-p", "no:hypothesispytest", "-p", "no:unraisableexception", "-p", "no:playwright"),
        (),
    ),
    "stack": (("lobestack.suites.stack",), ("--target", "compose"), ()),
    "e2e": (("lobestack.suites.e2e",), ("--target", "compose"), ("browser",)),
    "prod": (("lobestack.suites.stack", "lobestack.suites.prod"), ("--target", "live", "--request-budget", "150"), ()),
    "host": (("lobestack.suites.host",), (), ("host",)),
    "gpu": (("lobestack.suites.gpu",), (), ("host",)),
}


def _given(args: list[str], option: str) -> str | None:
    """The value of `option` among pytest's arguments (`--option VALUE` or `--option=VALUE`), the last one given."""
    found = None
    for i, arg in enumerate(args):
        if arg == option and i + 1 < len(args):
            found = args[i + 1]
        elif arg.startswith(option + "="):
            found = arg.split("=", 1)[1]
    return found


def _check(argv: list[str]) -> int:
    """`lobestack check [LAYER] [pytest options…]`: the layer's shipped suites through pytest, with lobestack's
    reports, exit codes (pytest's: 0 passed, 1 a check failed, 4 bad input) and redaction."""
    from lobestack.extras import require
    from lobestack.targets import TARGETS, require_extra

    layer = argv[0] if argv and not argv[0].startswith("-") else "static"
    rest = argv[1:] if argv and argv[0] == layer else argv
    if layer not in LAYER_RUNS:
        raise BadInput(f"check: no layer {layer!r} (the layers: {', '.join(LAYER_RUNS)})")
    if "-h" in rest or "--help" in rest:
        print(f"usage: lobestack check [{'|'.join(LAYER_RUNS)}] --deployment DIR [pytest options…]")
        print("runs the layer's shipped suites through pytest; `pytest --help` lists the options (group lobestack)")
        return EXIT_OK
    suites, defaults, extras = LAYER_RUNS[layer]
    options: list[str] = []
    for flag, value in zip(defaults[::2], defaults[1::2], strict=True):
        if flag == "-p" or _given(rest, flag) is None:  # the user's own --target, --request-budget win
            options += [flag, value]
    for extra in extras:
        require(extra)
    target = _given([*options, *rest], "--target")
    if target in TARGETS:
        require_extra(target)
    if _given(rest, "--lobestack-env") is None:
        options += ["--lobestack-env", layer]
    if _given(rest, "--rootdir") is None:
        # the reports go to ./reports/<layer>, never into the deployment directory (pytest would take the rootdir
        # from --deployment's value)
        options += ["--rootdir", str(Path.cwd())]
    import pytest

    # The suites assert nothing (checks report through run_check): pytest need not rewrite lobestack's modules,
    # which it would do on every start, lobestack being the package of a pytest11 plugin.
    return int(pytest.main(["--pyargs", *suites, "-p", "no:cacheprovider", "--assert=plain", *options, *rest]))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv and argv[0] == "check":
            return _check(argv[1:])
        args = _parser().parse_args(argv)
        return {
            "init": _init,
            "provision": _provision,
            "catalogue": _catalogue,
            "layer": _layer,
            "images": _images,
            "stacks": _stacks,
            "down": _down,
        }[args.command](args)
    except BadInput as exc:
        print(f"lobestack: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"lobestack: error: {exc.strerror}: {exc.filename}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # an internal error: one line
        print(f"lobestack: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
