"""`outpost bundle` end to end on the real Gemma 3 270M, with Debian's minisign as the peer both ways: keys made
by minisign sign bundles outpost verifies, outpost's signatures pass `minisign -V` on the exact bundle.json bytes,
password-protected and unprotected keys; every failure is exit status 1 and one line naming the failed check."""
import json
import os
import subprocess
import tarfile

import pytest

from conftest import OUTPOST, ok_cli as ok, run_cli as run
from test_gemma3 import model_path

MINISIGN = "/usr/bin/minisign"


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """One directory bundle and one tar bundle of Gemma (unsigned), and the smoke text `outpost run` gives."""
    work = str(tmp_path_factory.mktemp("bundles"))
    created = ok([OUTPOST, "bundle", "create", "--model", model_path(), "--name", "gemma3-270m", "--version", "1.0.0",
                  "--output", "gemma.tar", "--expires", "30", "--smoke-tokens", "12", "--threads", "1", "--json"], work)
    manifest = json.loads(created.stdout)
    assert "copying the model: 100%" in created.stderr
    ok([OUTPOST, "bundle", "create", "--model", model_path(), "--name", "gemma3-270m", "--version", "1.0.0",
        "--output", "gemma", "--smoke-tokens", "12"], work)
    return work, manifest


def fresh(bundles, name, kind="tar"):
    """A copy of the unsigned bundle to sign, tamper with or verify."""
    work, _ = bundles
    target = os.path.join(work, name)
    source = os.path.join(work, "gemma.tar" if kind == "tar" else "gemma")
    subprocess.run(["cp", "-a", source, target], check=True)
    return target


def test_bundle_json_describes_the_model_and_its_smoke_test(bundles):
    work, manifest = bundles
    sha = subprocess.run(["sha256sum", model_path()], capture_output=True, text=True, check=True).stdout.split()[0]
    assert manifest["schema"] == "outpost.bundle.v1"
    assert (manifest["name"], manifest["version"]) == ("gemma3-270m", "1.0.0")
    assert manifest["model"] == {"file": "gemma-3-270m-q4_k_m.gguf", "size": os.path.getsize(model_path()),
                                 "sha256": sha, "architecture": "gemma3"}
    assert manifest["smoke_test"]["prompt"] == "The capital of France is"
    # The smoke text is what greedy decoding gives, whatever the thread count (created with 1, run here with 2).
    ours = json.loads(ok([OUTPOST, "run", "--model", model_path(), "--prompt", "The capital of France is",
                          "--max-tokens", "12", "--temperature", "0", "--threads", "2", "--json"], work).stdout)
    assert manifest["smoke_test"]["expected"] == ours["text"] and ours["text"]
    # `bundle manifest` prints exactly the bytes stored; the tar is a plain OCI layout GNU tar can list.
    printed = ok([OUTPOST, "bundle", "manifest", "gemma.tar"], work).stdout
    assert json.loads(printed) == manifest
    with tarfile.open(os.path.join(work, "gemma.tar")) as archive:
        names = archive.getnames()
    assert "oci-layout" in names and "index.json" in names and f"blobs/sha256/{sha}" in names
    assert sorted(os.listdir(os.path.join(work, "gemma"))) == ["blobs", "index.json", "oci-layout"]


@pytest.mark.parametrize("password", [None, "bundle pass"])
def test_outpost_keys_sign_and_minisign_verifies(bundles, password):
    work, _ = bundles
    bundle = fresh(bundles, f"ours-{bool(password)}.tar")
    keygen = [OUTPOST, "keygen", "--force", "--secret-key", "team.key", "--public-key", "team.pub"]
    ok(keygen + (["--no-password"] if password is None else []), work, stdin=(password or "") + "\n")
    ok([OUTPOST, "bundle", "sign", bundle, "--secret-key", "team.key"], work, stdin=(password or "") + "\n")
    ok([OUTPOST, "bundle", "manifest", bundle, "--output", "bundle.json"], work)
    inspected = json.loads(ok([OUTPOST, "bundle", "inspect", bundle, "--json"], work).stdout)
    assert len(inspected["signatures"]) == 1
    with tarfile.open(bundle) as archive:
        oci = json.load(archive.extractfile(json.load(archive.extractfile("index.json"))["manifests"][0]["digest"].replace("sha256:", "blobs/sha256/")))
        signature = [layer for layer in oci["layers"] if layer["mediaType"] == "application/vnd.outpost.bundle.signature.v1+minisign"][0]
        with open(os.path.join(work, "bundle.json.minisig"), "wb") as f:
            f.write(archive.extractfile(signature["digest"].replace("sha256:", "blobs/sha256/")).read())
    verified = run([MINISIGN, "-V", "-p", "team.pub", "-m", "bundle.json", "-x", "bundle.json.minisig"], work)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "bundle:gemma3-270m@1.0.0" in verified.stdout
    result = json.loads(ok([OUTPOST, "bundle", "verify", bundle, "--trusted", "team.pub", "--json"], work).stdout)
    assert result["verified"] is True and result["key_ids"] == [inspected["signatures"][0]["key_id"]]


def test_minisign_keys_and_signatures_work_with_outpost(bundles):
    work, manifest = bundles
    bundle = fresh(bundles, "theirs", kind="dir")
    # An encrypted minisign key used by outpost directly, and a -W (unencrypted) one signing on the "offline machine".
    ok([MINISIGN, "-G", "-f", "-p", "ops.pub", "-s", "ops.key"], work, stdin="ops secret\nops secret\n")
    ok([MINISIGN, "-G", "-W", "-f", "-p", "offline.pub", "-s", "offline.key"], work)
    ok([OUTPOST, "bundle", "sign", bundle, "--secret-key", "ops.key"], work, stdin="ops secret\n")
    wrong = run([OUTPOST, "bundle", "sign", bundle, "--secret-key", "ops.key"], work, stdin="nope\n")
    assert wrong.returncode == 1 and "wrong password" in wrong.stderr
    ok([OUTPOST, "bundle", "manifest", bundle, "--output", "to-sign.json"], work)
    ok([MINISIGN, "-S", "-s", "offline.key", "-m", "to-sign.json", "-x", "offline.minisig", "-t", "signed offline"], work)
    ok([OUTPOST, "bundle", "sign", bundle, "--signature", "offline.minisig"], work)
    again = run([OUTPOST, "bundle", "sign", bundle, "--signature", "offline.minisig"], work)
    assert again.returncode == 1 and "already signed by key" in again.stderr
    os.makedirs(os.path.join(work, "trusted.d"), exist_ok=True)
    for name in ("ops.pub", "offline.pub"):
        subprocess.run(["cp", os.path.join(work, name), os.path.join(work, "trusted.d", name)], check=True)
    result = json.loads(ok([OUTPOST, "bundle", "verify", bundle, "--trusted", "trusted.d", "--threshold", "2", "--json"], work).stdout)
    assert result["verified"] and len(result["key_ids"]) == 2
    assert result["name"] == "gemma3-270m" and result["model_sha256"] == manifest["model"]["sha256"]
    human = ok([OUTPOST, "bundle", "verify", bundle, "--trusted", "trusted.d"], work).stdout
    assert human.startswith("verified: gemma3-270m 1.0.0") and "(2 of 1 required)" in human
    # The threshold can come from the configuration.
    with open(os.path.join(work, "outpost.toml"), "w") as f:
        f.write(f'[bundles]\ntrusted_dir = "{work}/trusted.d"\nsignatures_required = 3\n')
    three = run([OUTPOST, "bundle", "verify", bundle, "--config", "outpost.toml"], work)
    assert three.returncode == 1
    assert three.stderr.strip().endswith("check 'threshold' failed: 2 distinct trusted keys signed; 3 required"), three.stderr


def failure(work, bundle, trusted, *extra):
    out = run([OUTPOST, "bundle", "verify", bundle, "--trusted", trusted, "--json", *extra], work)
    assert out.returncode == 1, out.stdout + out.stderr
    lines = [line for line in out.stderr.splitlines() if not line.startswith("checking the model")]
    assert len(lines) == 1, out.stderr
    report = json.loads(out.stdout)
    assert report["verified"] is False and report["check"] in lines[0]
    return report


def test_tampering_fails_with_the_check_named(bundles):
    work, manifest = bundles
    bundle = fresh(bundles, "tampered.tar")
    ok([OUTPOST, "keygen", "--force", "--no-password", "--secret-key", "t.key", "--public-key", "t.pub"], work)
    ok([OUTPOST, "keygen", "--force", "--no-password", "--secret-key", "u.key", "--public-key", "u.pub"], work)
    ok([OUTPOST, "bundle", "sign", bundle, "--secret-key", "t.key"], work)
    ok([OUTPOST, "bundle", "verify", bundle, "--trusted", "t.pub"], work)
    assert failure(work, bundle, "u.pub")["check"] == "trusted-key"
    assert failure(work, bundle, "t.pub", "--threshold", "2")["check"] == "threshold"
    # One flipped byte deep inside the model, found only by hashing every byte.
    with tarfile.open(bundle) as archive:
        member = archive.getmember("blobs/sha256/" + manifest["model"]["sha256"])
    with open(bundle, "r+b") as f:
        f.seek(member.offset_data + member.size // 2)
        byte = f.read(1)
        f.seek(member.offset_data + member.size // 2)
        f.write(bytes([byte[0] ^ 0x10]))
    report = failure(work, bundle, "t.pub")
    assert report["check"] == "model" and "SHA-256" in report["error"]


def test_hostile_tars_are_refused_and_nothing_is_written(bundles, tmp_path):
    work, _ = bundles
    ok([OUTPOST, "keygen", "--force", "--no-password", "--secret-key", "h.key", "--public-key", "h.pub"], str(tmp_path))
    evil = tmp_path / "evil.tar"
    payload = tmp_path / "payload"
    payload.write_text("x")
    for name, kind in [("../escape", tarfile.REGTYPE), ("/etc/evil", tarfile.REGTYPE), ("index.json", tarfile.SYMTYPE),
                       ("blobs/link", tarfile.LNKTYPE), ("dev", tarfile.CHRTYPE)]:
        with tarfile.open(evil, "w", format=tarfile.USTAR_FORMAT) as archive:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind == tarfile.REGTYPE:
                info.size = 1
                with open(payload, "rb") as f:
                    archive.addfile(info, f)
            else:
                info.linkname = "/etc/passwd"
                archive.addfile(info)
        before = sorted(os.listdir(tmp_path)), sorted(os.listdir(work))
        for command in (["verify", str(evil), "--trusted", "h.pub"], ["inspect", str(evil)]):
            out = run([OUTPOST, "bundle", *command], str(tmp_path))
            assert out.returncode == 1, (name, out.stdout, out.stderr)
            assert "check 'layout' failed" in out.stderr, (name, out.stderr)
        assert (sorted(os.listdir(tmp_path)), sorted(os.listdir(work))) == before
        assert not os.path.exists("/etc/evil") and not os.path.exists(os.path.join(os.path.dirname(str(tmp_path)), "escape"))
    # The same archive twice in a row gives a duplicate entry.
    with tarfile.open(evil, "w", format=tarfile.USTAR_FORMAT) as archive:
        for _ in range(2):
            info = tarfile.TarInfo("oci-layout")
            info.size = 1
            with open(payload, "rb") as f:
                archive.addfile(info, f)
    out = run([OUTPOST, "bundle", "inspect", str(evil)], str(tmp_path))
    assert out.returncode == 1 and "twice" in out.stderr


def test_usage_errors(bundles):
    work, _ = bundles
    for args, fragment in [(["bundle"], "Usage: outpost bundle COMMAND"), (["bundle", "frobnicate"], "unknown command 'frobnicate'"),
                           (["bundle", "create", "--model", model_path(), "--name", "Bad Name", "--version", "1.0.0", "--output", "x"], "bundle name"),
                           (["bundle", "create", "--model", model_path(), "--name", "ok", "--version", "1.0", "--output", "x"], "MAJOR.MINOR.PATCH"),
                           (["bundle", "sign", "gemma.tar"], "--secret-key FILE"),
                           (["bundle", "verify"], "expected one BUNDLE")]:
        out = run([OUTPOST, *args], work)
        assert out.returncode == 2, (args, out.stderr)
        assert fragment in out.stderr, (args, out.stderr)
    exists = run([OUTPOST, "bundle", "create", "--model", model_path(), "--name", "ok", "--version", "1.0.0", "--output", "gemma.tar"], work)
    assert exists.returncode == 1 and "exists" in exists.stderr
    group = ok([OUTPOST, "bundle", "--help"], work).stdout
    assert group.startswith("Usage: outpost bundle COMMAND") and all(f"  {name} " in group for name in ("create", "manifest", "sign", "verify", "inspect"))
    assert "--trusted DIR|KEY.pub" in ok([OUTPOST, "bundle", "verify", "--help"], work).stdout
