"""The host and GPU parsers on real captured outputs (tests/data/hosts/, sources named there)."""

from __future__ import annotations

import pytest

from lobestack.probes.gpu import Gpu, parse_gpus, parse_ps
from lobestack.probes.host import is_loopback, parse_df, parse_nft, parse_ufw, split_nginx_dump
from tests.host.recorded import load


def answer(recording: str, match: str) -> str:
    return next(a.stdout for a in load(recording) if match in a.match)


def test_nvidia_smi_lines_of_an_h100_and_an_h200() -> None:
    assert parse_gpus(answer("gpu-h100", "nvidia-smi --query-gpu")) == [
        Gpu("NVIDIA H100 80GB HBM3", 81559, "580.159.04")
    ]
    assert parse_gpus(answer("gpu-h200", "nvidia-smi --query-gpu")) == [Gpu("NVIDIA H200", 143771, "580.159.03")]
    assert len(parse_gpus(answer("container-sees-fewer", "nvidia-smi --query-gpu"))) == 2


@pytest.mark.parametrize("line", ["NVIDIA H200, [N/A], 580.159.03", "no devices were found"])
def test_nvidia_smi_lines_that_are_not_gpus_are_refused(line: str) -> None:
    with pytest.raises(ValueError):
        parse_gpus(line)


def test_ollama_ps_with_and_without_size_vram() -> None:
    [gpu] = parse_ps(answer("gpu-h100", "/api/ps").rsplit("\n", 2)[0])
    assert gpu.size_vram == gpu.size and gpu.vram_fraction == 1.0
    [old] = parse_ps(answer("ollama-cpu-old", "/api/ps").rsplit("\n", 2)[0])
    assert old.size_vram == 0 and old.size > 0  # ollama/ollama#4840: left out when 0
    with pytest.raises(ValueError):
        parse_ps('{"error": "unauthorized"}')


def test_nginx_dump_splits_into_the_files_nginx_loaded() -> None:
    files = split_nginx_dump(answer("nginx-host", "nginx -T"))
    assert list(files)[:3] == [
        "/etc/nginx/nginx.conf",
        "/etc/nginx/modules-enabled/50-mod-http-echo.conf",
        "/etc/nginx/mime.types",
    ]
    assert "/etc/nginx/sites-enabled/default" in files
    assert files["/etc/nginx/nginx.conf"].startswith("user www-data;\n")
    assert "# configuration file" not in "".join(files.values())


def test_ufw_rules_and_their_ports() -> None:
    rules = parse_ufw(answer("firewall-ufw-open", "ufw status"))
    assert [ports for _, ports in rules] == [{22}, {443}, {5432}, {23210}, {22}, {443}, {5432}, {23210}]
    assert parse_ufw("Status: inactive\n") == []


def test_nft_input_rules_only() -> None:
    open_rules = parse_nft(answer("firewall-nft-open", "nft list ruleset"))
    assert [rule for rule, _ in open_rules] == [
        "tcp dport { 22, 80, 443, 8443 } accept",
        "tcp dport 25430-25440 accept",
    ]
    assert open_rules[1][1] == set(range(25430, 25441))
    # the forward chain's `tcp dport 5432 accept` (traffic to containers) is not the host's input
    assert all(5432 not in ports for _, ports in parse_nft(answer("firewall-healthy", "nft list ruleset")))


def test_df_and_loopback() -> None:
    text = (  # `df -P -k /var/lib/docker` on the CI machine, 2026-12-01
        "Filesystem     1024-blocks     Used Available Capacity Mounted on\n"
        "/dev/vda         264212084 29635196  76755716      28% /var/lib/docker\n"
    )
    assert parse_df(text) == {"/var/lib/docker": ("/var/lib/docker", 264212084, 76755716)}
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("127.0.0.53%lo")
    assert not is_loopback("0.0.0.0") and not is_loopback("::") and not is_loopback("172.17.0.1")
