"""Roles by what a service runs, whatever it is called: the image, else the command (a mirror or a local build)."""

from __future__ import annotations

from pathlib import Path

from lobestack.deployment import load_deployment

LAYOUTS = Path(__file__).resolve().parents[1] / "data" / "layouts"

COMPOSE = """services:
  identity:
    image: registry.example.net/mirror/auth-server:1.27.0
    entrypoint: ["sh", "-c", "npm run cli db seed -- --swe && npm run alteration deploy 1.27.0 && npm start"]
  chat:
    build: ./chat
    image: corp/chat:2025.11
    command: ["node", "/app/startServer.js"]
  blobs:
    image: registry.example.net/storage/object-server:2025.4
    command: server /data --address ":9000" --console-address ":9001"
  blobs-setup:
    image: minio/mc:RELEASE.2025-04-16T18-13-26Z
    entrypoint: ["/bin/sh", "-c", "mc mb --ignore-existing local/lobe"]
"""


def test_roles_by_image_whatever_the_service_is_called() -> None:
    d = load_deployment(LAYOUTS / "renamed-services")
    assert (d.lobe.name, d.logto.name, d.minio.name) == ("chat", "identity", "object-store")


def test_roles_by_command_where_the_image_does_not_say(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("", encoding="utf-8")
    (tmp_path / "docker-compose.yml").write_text(COMPOSE, encoding="utf-8")
    (tmp_path / "chat").mkdir()
    d = load_deployment(tmp_path)
    assert (d.lobe.name, d.logto.name, d.minio.name) == ("chat", "identity", "blobs")
