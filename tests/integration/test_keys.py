"""`outpost keygen` against Debian's minisign: a key pair we make signs with minisign and verifies with it, with and
without a password; existing files are kept; the secret key file is private."""
import os
import stat
import subprocess

from conftest import OUTPOST

MINISIGN = "/usr/bin/minisign"


def run(args, cwd, stdin=""):
    return subprocess.run(args, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120)


def test_unencrypted_key_pair_signs_and_verifies_with_minisign(workdir):
    out = run([OUTPOST, "keygen", "--no-password"], workdir)
    assert out.returncode == 0, out.stderr
    assert "(unencrypted)" in out.stdout and "minisign -Vm <file> -P RW" in out.stdout
    assert stat.S_IMODE(os.stat(os.path.join(workdir, "outpost.key")).st_mode) == 0o600
    with open(os.path.join(workdir, "weights.bin"), "wb") as f:
        f.write(os.urandom(4096))
    assert run([MINISIGN, "-S", "-W", "-s", "outpost.key", "-m", "weights.bin", "-t", "v1"], workdir).returncode == 0
    verified = run([MINISIGN, "-V", "-p", "outpost.pub", "-m", "weights.bin"], workdir)
    assert verified.returncode == 0 and "v1" in verified.stdout, verified.stdout + verified.stderr
    # Kept unless --force.
    again = run([OUTPOST, "keygen", "--no-password"], workdir)
    assert again.returncode == 1 and "exists; keeping it" in again.stderr
    assert run([OUTPOST, "keygen", "--no-password", "--force"], workdir).returncode == 0
    assert run([MINISIGN, "-V", "-p", "outpost.pub", "-m", "weights.bin"], workdir).returncode != 0, "a new key verified the old signature"


def test_encrypted_key_takes_its_password_from_standard_input(workdir):
    out = run([OUTPOST, "keygen", "--secret-key", "team.key", "--public-key", "team.pub"], workdir, stdin="correct horse\n")
    assert out.returncode == 0, out.stderr
    with open(os.path.join(workdir, "m"), "w") as f:
        f.write("manifest")
    assert run([MINISIGN, "-S", "-s", "team.key", "-m", "m"], workdir, stdin="wrong\n").returncode != 0
    assert run([MINISIGN, "-S", "-s", "team.key", "-m", "m"], workdir, stdin="correct horse\n").returncode == 0
    assert run([MINISIGN, "-V", "-p", "team.pub", "-m", "m"], workdir).returncode == 0
    empty = run([OUTPOST, "keygen", "--secret-key", "x.key", "--public-key", "x.pub"], workdir, stdin="")
    assert empty.returncode == 1 and "no password given" in empty.stderr


def test_password_file(workdir):
    with open(os.path.join(workdir, "pw"), "w") as f:
        f.write("from a file\nignored second line\n")
    out = run([OUTPOST, "keygen", "--password-file", "pw", "--secret-key", "f.key", "--public-key", "f.pub"], workdir)
    assert out.returncode == 0, out.stderr
    with open(os.path.join(workdir, "m"), "w") as f:
        f.write("manifest")
    assert run([MINISIGN, "-S", "-s", "f.key", "-m", "m"], workdir, stdin="from a file\n").returncode == 0
    assert run([MINISIGN, "-V", "-p", "f.pub", "-m", "m"], workdir).returncode == 0
    both = run([OUTPOST, "keygen", "--password-file", "pw", "--no-password", "--force"], workdir)
    assert both.returncode == 2 and "not both" in both.stderr
