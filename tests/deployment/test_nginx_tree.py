"""The Nginx tree: includes followed in place, inheritance through nested locations and `if` blocks (array
directives replaced as a whole), the server Nginx picks per name and port, and configs Nginx refuses.
(tests/differential/ compares it with a real Nginx on generated trees.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from lobestack.deployment.nginx import load_nginx
from lobestack.errors import BadInput


def tree(root: Path, files: dict[str, str]):
    for name, text in files.items():
        (root / "nginx" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "nginx" / name).write_text(text, encoding="utf-8")
    return load_nginx(root / "nginx", root)


def test_nested_location_and_if_replace_inherited_headers(tmp_path: Path) -> None:
    config = tree(
        tmp_path,
        {
            "a.conf": "server {\n  listen 80;\n  server_name a;\n  add_header X-S s;\n  proxy_buffering off;\n"
            "  location / {\n    proxy_pass http://127.0.0.1:1;\n    location /api/ {\n      add_header X-Api a;\n"
            "      proxy_buffering on;\n      proxy_pass http://127.0.0.1:2;\n    }\n"
            "    if ($http_x) {\n      add_header X-If i;\n    }\n  }\n}\n"
        },
    )
    server = config.servers[0]
    root, api = server.location_for("/x"), server.location_for("/api/v1")
    assert root.match == "/" and api.match == "/api/"
    assert [h.args[0] for h in root.response_headers()] == ["X-S"]
    assert [h.args[0] for h in api.response_headers()] == ["X-Api"]
    assert (
        api.effective("proxy_buffering")[0].args == ("on",)
        and root.effective("proxy_buffering")[0].where == "nginx/a.conf:5"
    )
    (branch,) = root.ifs
    assert [h.args[0] for h in branch.response_headers()] == ["X-If"]
    assert branch.proxies() and branch.upstream() == ("127.0.0.1", 1)


def test_includes_are_followed_where_they_stand(tmp_path: Path) -> None:
    config = tree(
        tmp_path,
        {
            "a.conf": "include snippets/http.conf;\nserver {\n  listen 80;\n  server_name a;\n  location / {\n"
            "    include snippets/proxy.conf;\n  }\n}\n",
            "snippets/http.conf": "proxy_read_timeout 600s;\n",
            "snippets/proxy.conf": "proxy_pass http://127.0.0.1:1;\nproxy_set_header Host $host;\n",
        },
    )
    location = config.servers[0].location_for("/")
    assert location.header("Host") == "$host"
    assert location.effective("proxy_read_timeout")[0].where == "nginx/snippets/http.conf:1"
    assert config.files == ["nginx/a.conf", "nginx/snippets/http.conf", "nginx/snippets/proxy.conf"]


def test_server_choice_exact_wildcard_default_and_first_of_a_repeated_name(tmp_path: Path) -> None:
    config = tree(
        tmp_path,
        {
            "a.conf": "server { listen 80; server_name first; return 200; }\n"
            "server { listen 80; server_name *.example.com; return 200; }\n",
            "b.conf": "server { listen 80 default_server; server_name b; return 200; }\n"
            "server { listen 80; server_name first; return 200; }\n"
            "server { listen 80; server_name www.example.com; return 200; }\n",
        },
    )
    pick = {name: config.server_for(name, 80).where for name in ("first", "x.example.com", "www.example.com", "other")}
    assert pick == {
        "first": "nginx/a.conf:1",
        "x.example.com": "nginx/a.conf:2",
        "www.example.com": "nginx/b.conf:3",
        "other": "nginx/b.conf:1",
    }
    assert config.default_server("*", 80).where == "nginx/b.conf:1"


@pytest.mark.parametrize(
    ("files", "where", "reason"),
    [
        ({"a.conf": "include /etc/passwd;\n"}, "nginx/a.conf:1", "outside the deployment directory, not read"),
        ({"a.conf": "include missing.conf;\n"}, "nginx/a.conf:1", "failed (No such file or directory)"),
        (
            {"a.conf": "server {\n  location /a {\n    location /b { return 200; }\n  }\n}\n"},
            "nginx/a.conf:3",
            'location "/b" is outside location "/a"',
        ),
        (
            {"a.conf": "server {\n  location / {\n    if ($x) {\n      proxy_set_header A b;\n    }\n  }\n}\n"},
            "nginx/a.conf:4",
            '"proxy_set_header" directive is not allowed here',
        ),
        ({"a.conf": "server {\n  proxy_buffering on;\n  proxy_buffering off;\n}\n"}, "nginx/a.conf:3", "is duplicate"),
        (
            {"a.conf": "server { listen 80 default_server; }\n", "b.conf": "server {\n listen 80 default_server;\n}\n"},
            "nginx/b.conf:2",
            "a duplicate default server",
        ),
    ],
)
def test_what_nginx_refuses_is_bad_input_with_file_and_line(
    tmp_path: Path, files: dict[str, str], where: str, reason: str
) -> None:
    with pytest.raises(BadInput) as err:
        tree(tmp_path, files)
    assert str(err.value).startswith(f"{tmp_path / where.rsplit(':', 1)[0]}:{where.rsplit(':', 1)[1]}: ")
    assert reason in str(err.value)
    assert "root:" not in str(err.value)  # nothing of a file outside the deployment is printed


def test_a_site_file_linked_from_outside_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.conf"
    outside.write_text("server { listen 80; }\n", encoding="utf-8")
    (tmp_path / "deploy" / "nginx").mkdir(parents=True)
    (tmp_path / "deploy" / "nginx" / "site.conf").symlink_to(outside)
    with pytest.raises(BadInput, match="outside the deployment directory, not read"):
        load_nginx(tmp_path / "deploy" / "nginx", tmp_path / "deploy")
