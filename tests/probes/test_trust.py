"""TLS contexts are made once per trust configuration (loading the system store is the live layer's main CPU
cost) and made again when the CA file changes, so a rotated CA is never judged with the old one."""

from __future__ import annotations

import os
from pathlib import Path

from lobestack import pki
from lobestack.probes.trust import verifying_context


def test_one_context_per_ca_file_and_a_new_one_when_it_changes(tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    first_ca = pki.CertificateAuthority.create()
    first_ca.save(ca_file, tmp_path / "ca-key.pem")
    first = verifying_context(ca_file)
    assert verifying_context(ca_file) is first
    assert verifying_context(ca_file, check_hostname=False) is not first
    assert not verifying_context(ca_file, check_hostname=False).check_hostname and first.check_hostname

    stat = ca_file.stat()
    pki.CertificateAuthority.create().save(ca_file, tmp_path / "ca-key.pem")
    os.utime(ca_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = verifying_context(ca_file)
    assert second is not first
    assert len(second.get_ca_certs()) == len(first.get_ca_certs())  # the new CA replaced the old one


def test_an_absent_or_empty_ca_file_means_the_system_store_alone(tmp_path: Path) -> None:
    system = verifying_context(None)
    assert verifying_context(tmp_path / "absent.pem") is system
    (tmp_path / "empty.pem").write_text("\n")
    assert verifying_context(tmp_path / "empty.pem") is system
