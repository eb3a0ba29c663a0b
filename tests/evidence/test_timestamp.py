"""Bundles timestamped by a real RFC 3161 authority (OpenSSL's, on 127.0.0.1)."""

from __future__ import annotations

import subprocess
import zipfile
from functools import partial
from pathlib import Path

import pytest
from cryptography import x509

from intake.evidence import request_token, verify_bundle
from intake.evidence.bag import BagReader, parse_bag_info
from intake.store.settings import DEFAULTS, Settings, SettingsError
from tests.conftest import Instance
from tests.evidence.bundles import Members, make_bundle, rewrite
from tests.evidence.conftest import LocalTSA, make_authority


def stamped(tmp_path: Path, tsa: LocalTSA) -> Path:
    return make_bundle(tmp_path / "case.zip", stamp=partial(request_token, tsa.url),
                       tsa_url=tsa.url)


def ca_of(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_a_stamped_bundle_verifies_here_and_with_openssl_ts_verify(
        tmp_path: Path, tsa: LocalTSA) -> None:
    bundle = stamped(tmp_path, tsa)
    verdict = verify_bundle(bundle, tsa_ca=ca_of(tsa.ca))
    assert verdict.verified, verdict.steps
    assert verdict.steps[-1].text.startswith("the signature existed on ")
    assert "according to CN=Test TSA; its signature checks under the CA certificate given" \
        in verdict.steps[-1].text
    with zipfile.ZipFile(bundle) as archive:
        bag = BagReader(archive)
        (tmp_path / "sig").write_bytes(bag.read("signature/tagmanifest-sha256.sig"))
        (tmp_path / "tsr").write_bytes(bag.read("signature/timestamp.tsr"))
        assert parse_bag_info(bag.read("bag-info.txt"))["Intake-Timestamp"] == (
            f"RFC 3161 from {tsa.url}")
    result = subprocess.run(  # noqa: S603 S607
        ["openssl", "ts", "-verify", "-data", str(tmp_path / "sig"), "-in",
         str(tmp_path / "tsr"), "-CAfile", str(tsa.ca), "-untrusted", str(tsa.cert)],
        capture_output=True, text=True, check=False)
    assert result.stdout.strip() == "Verification: OK", result.stderr


def test_without_the_authoritys_ca_the_verdict_says_its_signature_was_not_checked(
        tmp_path: Path, tsa: LocalTSA) -> None:
    verdict = verify_bundle(stamped(tmp_path, tsa))
    assert verdict.verified
    assert verdict.steps[-1].text.endswith(
        "its authority's signature was NOT checked: give --tsa-ca with the authority's CA "
        "certificate, or run `openssl ts -verify`")


def test_a_time_stamp_over_other_data_fails(tmp_path: Path, tsa: LocalTSA) -> None:
    """The token is swapped for a genuine one over other bytes (the tag manifest leaves the
    token out, as it must: the token is made after the signature over it)."""
    bundle = stamped(tmp_path, tsa)
    other = request_token(tsa.url, b"another bundle's signature")

    def edit(members: Members) -> None:
        members["signature/timestamp.tsr"] = other
    verdict = verify_bundle(rewrite(bundle, edit), tsa_ca=ca_of(tsa.ca))
    assert (verdict.steps[-1].name, verdict.steps[-1].text) == (
        "The time-stamp (RFC 3161)",
        "the token is a time-stamp of other data than this bundle's signature")


def test_a_token_from_an_authority_under_another_ca_fails_with_that_ca(
        tmp_path: Path, tsa: LocalTSA) -> None:
    make_authority(tmp_path / "other", "Other TSA")
    verdict = verify_bundle(stamped(tmp_path, tsa), tsa_ca=ca_of(tmp_path / "other" / "ca.crt"))
    assert not verdict.verified
    assert verdict.steps[-1].text.startswith(
        "the token is not signed by a time-stamping authority under the CA certificate given")


def test_an_authority_that_does_not_answer_leaves_the_bundle_saying_so(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9/tsa"
    bundle = make_bundle(tmp_path / "case.zip", stamp=partial(request_token, url), tsa_url=url)
    verdict = verify_bundle(bundle)
    assert verdict.verified
    assert verdict.steps[-1].text.startswith(
        f"not timestamped (none: the time-stamping authority failed at export: no answer "
        f"from {url}")


@pytest.mark.parametrize("url", ["ftp://tsa.example/", "https://", "http://a b/",
                                 "https://user:pw@tsa.example/"])
def test_tsa_url_must_be_an_http_address(tmp_path: Path, url: str) -> None:
    config = {**DEFAULTS, "SECRET_KEY": "k" * 64, "PEPPER": "ab" * 32,
              "KEYS_DIR": str(tmp_path), "TSA_URL": url}
    with pytest.raises(SettingsError, match="TSA_URL must be an http:// or https:// address"):
        Settings.from_config(config, tmp_path)
    config["TSA_URL"] = "http://timestamp.example/tsr"
    assert Settings.from_config(config, tmp_path).tsa_url == "http://timestamp.example/tsr"


def test_a_reviewers_export_is_timestamped_when_the_desk_names_an_authority(
        instance: Instance, tsa: LocalTSA, tmp_path: Path) -> None:
    from intake import create_app
    from tests.review.conftest import log_in
    from tests.review.test_cases import case_ids, submit

    app = create_app({**instance.config, "TSA_URL": tsa.url})
    submit(app.test_client())
    reviewer = app.test_client()
    assert log_in(app, reviewer).status_code == 302
    [case_id] = case_ids(app)
    path = tmp_path / "export.zip"
    path.write_bytes(reviewer.get(f"/review/{case_id}/export").get_data())
    verdict = verify_bundle(path, app.extensions["intake.settings"].root, ca_of(tsa.ca))
    assert verdict.verified, verdict.steps
    assert "its signature checks under the CA certificate given" in verdict.steps[-1].text
