"""Nginx read from a main nginx.conf (--nginx-conf), as `nginx -T` reads it: the main context's includes and its
http block, includes where they stand (globs in name order, sites-enabled symlinks, paths relative to the prefix),
nothing outside the conf's tree; a copy of a server's /etc/nginx reads the /etc/nginx/... paths it names from the
copy. And a deployment without Nginx: modelled, with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from lobestack.deployment import load_deployment
from lobestack.deployment.nginx import load_nginx_conf
from lobestack.errors import BadInput

LAYOUTS = Path(__file__).resolve().parents[1] / "data" / "layouts"
SITE = (
    "server {{\n    listen 443 ssl;\n    server_name {name};\n"
    "    location / {{ proxy_pass http://127.0.0.1:{port}; }}\n}}\n"
)


def etc(root: Path, files: dict[str, str], links: dict[str, str] | None = None) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    for name, target in (links or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).symlink_to(target)
    return root / "nginx.conf"


def test_includes_resolve_where_they_stand_with_globs_symlinks_and_the_prefix(tmp_path: Path) -> None:
    conf = etc(
        tmp_path,
        {
            "nginx.conf": "user www-data;\nevents { worker_connections 64; }\nhttp {\n    include conf.d/*.conf;\n"
            "    include /etc/nginx/sites-enabled/*;\n}\n",
            "conf.d/10-size.conf": "client_max_body_size 50m;\n",
            "sites-available/b.example": SITE.format(name="b.example", port=2),
            "sites-available/a.example": SITE.format(name="a.example", port=1),
            "sites-available/off.example": SITE.format(name="off.example", port=3),
        },
        links={
            "sites-enabled/b.example": "../sites-available/b.example",
            "sites-enabled/a": "../sites-available/a.example",
        },
    )
    config = load_nginx_conf(conf)
    assert [s.names for s in config.servers] == [["a.example"], ["b.example"]]  # glob order, links followed
    assert config.files == [
        "nginx.conf",
        "conf.d/10-size.conf",
        "sites-available/a.example",
        "sites-available/b.example",
    ]
    server = config.servers[0]
    assert server.location_for("/").effective("client_max_body_size")[0].where == "conf.d/10-size.conf:1"
    assert config.http.where == "nginx.conf:3"


def test_relative_paths_start_at_the_prefix_given(tmp_path: Path) -> None:
    """As `nginx -p PREFIX -c conf/nginx.conf`: includes and certificates relative to PREFIX, not to the conf."""
    conf = etc(
        tmp_path,
        {
            "conf/nginx.conf": "http {\n    include sites/*.conf;\n}\n",
            "sites/a.conf": SITE.format(name="a.example", port=1),
        },
    )
    conf = tmp_path / "conf" / "nginx.conf"
    config = load_nginx_conf(conf, prefix=tmp_path)
    assert [s.names for s in config.servers] == [["a.example"]]
    assert config.path_of("certs/a.pem") == tmp_path / "certs" / "a.pem"
    assert load_nginx_conf(conf).servers == []  # from the conf's own directory, sites/*.conf matches nothing


def test_the_main_context_includes_are_followed_and_a_second_http_is_refused(tmp_path: Path) -> None:
    conf = etc(
        tmp_path,
        {
            "nginx.conf": "include modules-enabled/*.conf;\ninclude http.conf;\n",
            "modules-enabled/50-mod.conf": "load_module modules/ngx_stream_module.so;\n",
            "http.conf": "http {\n    server { listen 80; server_name x; }\n}\n",
        },
    )
    assert [s.names for s in load_nginx_conf(conf).servers] == [["x"]]
    (tmp_path / "nginx.conf").write_text("include http.conf;\nhttp { }\n", encoding="utf-8")
    with pytest.raises(BadInput, match=r'nginx.conf:2: "http" directive is duplicate \(first at http.conf:1\)'):
        load_nginx_conf(conf)


@pytest.mark.parametrize(
    ("include", "reason"),
    [
        ("/etc/passwd", "outside"),
        ("../outside.conf", "outside"),
        ("missing.conf", 'open() "missing.conf" failed (No such file or directory)'),
    ],
)
def test_what_leaves_the_tree_or_is_missing_is_bad_input(tmp_path: Path, include: str, reason: str) -> None:
    (tmp_path / "outside.conf").write_text("server { listen 80; }\n", encoding="utf-8")
    conf = etc(tmp_path / "etc", {"nginx.conf": f"http {{\n    include {include};\n}}\n"})
    with pytest.raises(BadInput) as err:
        load_nginx_conf(conf)
    assert str(err.value).startswith(f"{tmp_path / 'etc' / 'nginx.conf'}:2: ")
    assert reason in str(err.value)
    assert "root:" not in str(err.value)


def test_main_context_includes_outside_the_tree_are_left_out(tmp_path: Path) -> None:
    """Debian's modules-enabled/*.conf link to /usr/share/nginx/modules-available: load_module lines, not read."""
    (tmp_path / "mod-stream.conf").write_text("load_module modules/ngx_stream_module.so;\n", encoding="utf-8")
    conf = etc(
        tmp_path / "etc",
        {"nginx.conf": "include /etc/nginx/modules-enabled/*.conf;\nhttp {\n    server { listen 80; }\n}\n"},
        links={"modules-enabled/50-mod-stream.conf": str(tmp_path / "mod-stream.conf")},
    )
    config = load_nginx_conf(conf)
    assert config.files == ["nginx.conf"] and len(config.servers) == 1


def test_a_site_linked_from_outside_the_tree_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").write_text(SITE.format(name="x", port=1), encoding="utf-8")
    conf = etc(
        tmp_path / "etc",
        {"nginx.conf": "http {\n    include sites-enabled/*;\n}\n"},
        links={"sites-enabled/x": str(tmp_path / "elsewhere")},
    )
    with pytest.raises(BadInput, match="outside"):
        load_nginx_conf(conf)


def test_files_inside_the_deployment_are_named_from_it_and_relative_certificates_from_the_prefix() -> None:
    root = LAYOUTS / "sites-enabled-symlinks"
    d = load_deployment(root, nginx_conf=root / "etc" / "nginx" / "nginx.conf")
    assert "etc/nginx/sites-available/lobe.example.net" in d.nginx.files
    assert not any("old-lobe" in f for f in d.nginx.files)  # in sites-available, never enabled
    assert d.nginx.path_of("certs/x.pem") == root / "etc" / "nginx" / "certs" / "x.pem"
    # a copy laid out as the server's files: its absolute paths are read from the copy
    assert d.nginx.path_of("/etc/ssl/x.pem") == root / "etc" / "ssl" / "x.pem"
    assert "etc/letsencrypt/options-ssl-nginx.conf" in d.nginx.files  # certbot's, included by the app's site
    app = d.nginx.named_servers_for("lobe.example.net", 443)[0]
    assert app.effective("ssl_protocols")[0].where == "etc/letsencrypt/options-ssl-nginx.conf:11"


def test_a_conf_elsewhere_reads_only_its_own_tree(tmp_path: Path) -> None:
    """Not laid out as a server's files: no / stands in for the server's, and nothing outside the tree is read."""
    (tmp_path / "letsencrypt.conf").write_text("ssl_session_tickets off;\n", encoding="utf-8")
    conf = etc(tmp_path / "nginx-copy", {"nginx.conf": f"http {{\n    include {tmp_path}/letsencrypt.conf;\n}}\n"})
    with pytest.raises(BadInput, match=r"the tree of the nginx\.conf given, not read"):
        load_nginx_conf(conf)
    assert load_nginx_conf(etc(tmp_path / "x", {"nginx.conf": "http { }\n"})).sysroot is None


@pytest.mark.parametrize(
    ("layout", "reason"),
    [
        ("caddy-front", "the proxy in front is Caddy (service caddy), which the gate does not read"),
        ("lobechat-logto-example", "no Nginx config read (no nginx/ directory; --nginx-conf FILE"),
    ],
)
def test_a_deployment_without_nginx_is_modelled_with_the_reason(layout: str, reason: str) -> None:
    d = load_deployment(LAYOUTS / layout)
    assert not d.nginx.read and d.nginx.servers == []
    assert reason in d.nginx.not_read


def test_where_the_certificates_come_from() -> None:
    private = load_deployment(LAYOUTS / "san-private-ca").certificates
    assert private.private and "issued by CN=Corp Internal Root CA" in private.why
    assert "nginx/lobe.conf:13" in private.why
    public = load_deployment(LAYOUTS / "seed-guide", nginx_conf=LAYOUTS / "seed-guide/etc/nginx/nginx.conf")
    assert not public.certificates.private
    assert "/etc/letsencrypt/live/auth.prometheusags.ai/fullchain.pem is not readable here" in public.certificates.why
