"""`outpost bundle push` and `pull` against a real registry: Debian's docker-registry on 127.0.0.1, over TLS with
a CA the test makes and htpasswd basic auth, and anonymous over plain http on loopback. Bundles go up and come back
byte for byte and verify; chunked uploads, skipped blobs, wrong credentials, an untrusted CA and a blob altered
inside the registry each do what they must."""
import hashlib
import json
import os
import socket
import subprocess
import tarfile
import time

import pytest

from conftest import OUTPOST, ok_cli as ok, run_cli as run
from test_smollm2 import model_path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Registry:
    def __init__(self, work, tls, auth, client_certificates=False, extra=()):
        self.work = work
        self.root = os.path.join(work, "storage")
        self.port = free_port()
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        config = ["version: 0.1", "log:", "  level: info", "storage:", "  filesystem:", f"    rootdirectory: {self.root}",
                  "  delete:", "    enabled: true", "http:", f"  addr: 127.0.0.1:{self.port}"]
        if tls:
            ok(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Outpost test CA",
                "-keyout", "ca.key", "-out", "ca.pem"], work)
            ok(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr"], work)
            with open(os.path.join(work, "san.ext"), "w") as f:
                f.write("subjectAltName=IP:127.0.0.1\n")
            ok(["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
                "-extfile", "san.ext", "-out", "server.pem"], work)
            config += ["  tls:", f"    certificate: {work}/server.pem", f"    key: {work}/server.key"]
            if client_certificates:
                # Mutual TLS: the registry accepts only clients with a certificate from the test CA.
                ok(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=site-42", "-keyout", "client.key", "-out", "client.csr"], work)
                ok(["openssl", "x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
                    "-out", "client.pem"], work)
                config += ["    clientcas:", f"      - {work}/ca.pem"]
        if auth:
            out = ok(["htpasswd", "-Bbn", "site", "s3cret"], work)
            with open(os.path.join(work, "htpasswd"), "w") as f:
                f.write(out.stdout)
            config += ["auth:", "  htpasswd:", "    realm: outpost-test", f"    path: {work}/htpasswd"]
        config += list(extra)
        with open(os.path.join(work, "registry.yml"), "w") as f:
            f.write("\n".join(config) + "\n")
        self.log_path = os.path.join(work, "registry.log")
        self.proc = subprocess.Popen(["docker-registry", "serve", "registry.yml"], cwd=work, stdout=open(self.log_path, "w"),
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("docker-registry did not start: " + self.log())

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    work = str(tmp_path_factory.mktemp("registry-bundle"))
    ok([OUTPOST, "keygen", "--no-password", "--secret-key", "team.key", "--public-key", "team.pub"], work)
    ok([OUTPOST, "bundle", "create", "--model", model_path(), "--name", "assistant", "--version", "1.4.0", "--smoke-tokens", "4",
        "--output", "assistant.tar"], work)
    ok([OUTPOST, "bundle", "sign", "assistant.tar", "--secret-key", "team.key"], work)
    return work


def members(path):
    with tarfile.open(path) as archive:
        return {m.name: hashlib.sha256(archive.extractfile(m).read()).hexdigest() for m in archive.getmembers() if m.isfile()}


def test_push_and_pull_over_tls_with_basic_auth(signed, tmp_path):
    registry = Registry(str(tmp_path), tls=True, auth=True)
    try:
        with open(os.path.join(tmp_path, "auth"), "w") as f:
            f.write("site:s3cret\n")
        common = ["--registry", registry.url, "--repository", "outpost/assistant", "--auth-file", str(tmp_path / "auth"),
                  "--ca-file", str(tmp_path / "ca.pem")]
        pushed = ok([OUTPOST, "bundle", "push", "assistant.tar", *common], signed)
        digest = pushed.stdout.strip().splitlines()[-1]
        assert digest.startswith("sha256:") and "outpost/assistant:1.4.0" in pushed.stdout
        # The model (98 MB) went up in 32 MiB PATCHes; the registry has the manifest under the tag and the digest.
        assert registry.log().count('"PATCH /v2/outpost/assistant/blobs/uploads/') >= 4, registry.log()[-2000:]
        manifest = subprocess.run(["curl", "-sf", "--cacert", str(tmp_path / "ca.pem"), "-u", "site:s3cret",
                                   "-H", "Accept: application/vnd.oci.image.manifest.v1+json",
                                   f"{registry.url}/v2/outpost/assistant/manifests/1.4.0"], capture_output=True, check=True).stdout
        assert "sha256:" + hashlib.sha256(manifest).hexdigest() == digest
        assert json.loads(manifest)["artifactType"] == "application/vnd.outpost.bundle.v1+json"
        # Pushing again sends no blob: every one is there already.
        before = registry.log().count('"PATCH ')
        ok([OUTPOST, "bundle", "push", "assistant.tar", *common], signed)
        assert registry.log().count('"PATCH ') == before

        # Pulled back by tag and by digest: the same files, and it verifies.
        for reference, name in [("1.4.0", "by-tag.tar"), (digest, "by-digest.tar")]:
            out = ok([OUTPOST, "bundle", "pull", reference, *common, "--output", str(tmp_path / name)], signed)
            assert digest in out.stdout
            assert {k: v for k, v in members(tmp_path / name).items() if k != "index.json"} == \
                {k: v for k, v in members(os.path.join(signed, "assistant.tar")).items() if k != "index.json"}
            ok([OUTPOST, "bundle", "verify", str(tmp_path / name), "--trusted", "team.pub"], signed)

        # Wrong password, no CA, unknown tag: one clear line each, nothing written.
        with open(os.path.join(tmp_path, "wrong"), "w") as f:
            f.write("site:guess\n")
        wrong = run([OUTPOST, "bundle", "pull", "1.4.0", "--registry", registry.url, "--repository", "outpost/assistant",
                     "--auth-file", str(tmp_path / "wrong"), "--ca-file", str(tmp_path / "ca.pem"), "--output", str(tmp_path / "x.tar")], signed)
        assert wrong.returncode == 1 and "401" in wrong.stderr, wrong.stderr
        untrusted = run([OUTPOST, "bundle", "pull", "1.4.0", "--registry", registry.url, "--repository", "outpost/assistant",
                         "--auth-file", str(tmp_path / "auth"), "--output", str(tmp_path / "x.tar")], signed)
        assert untrusted.returncode == 1 and "certificate" in untrusted.stderr.lower(), untrusted.stderr
        missing = run([OUTPOST, "bundle", "pull", "9.9.9", *common, "--output", str(tmp_path / "x.tar")], signed)
        assert missing.returncode == 1 and "404" in missing.stderr, missing.stderr
        assert not os.path.exists(tmp_path / "x.tar")
        assert not [n for n in os.listdir(tmp_path) if ".partial-" in n]
    finally:
        registry.stop()


def test_a_blob_altered_inside_the_registry_is_refused(signed, tmp_path):
    registry = Registry(str(tmp_path), tls=False, auth=False)
    try:
        common = ["--registry", registry.url, "--repository", "site/assistant"]
        ok([OUTPOST, "bundle", "push", "assistant.tar", *common, "--tag", "stable"], signed)
        # Plain http to a loopback registry is allowed; to anything else it needs --insecure.
        refused = run([OUTPOST, "bundle", "push", "assistant.tar", "--registry", "http://registry.example", "--repository", "x"], signed)
        assert refused.returncode == 2 and "only a loopback registry" in refused.stderr, refused.stderr
        blobs = os.path.join(registry.root, "docker", "registry", "v2", "blobs", "sha256")
        largest = max((os.path.join(root, "data") for root, _, files in os.walk(blobs) if "data" in files), key=os.path.getsize)
        with open(largest, "r+b") as f:
            f.seek(12345)
            byte = f.read(1)
            f.seek(12345)
            f.write(bytes([byte[0] ^ 1]))
        out = run([OUTPOST, "bundle", "pull", "stable", *common, "--output", str(tmp_path / "y.tar")], signed)
        assert out.returncode == 1 and "arrived with digest" in out.stderr, out.stderr
        assert not os.path.exists(tmp_path / "y.tar") and not [n for n in os.listdir(tmp_path) if ".partial-" in n]
    finally:
        registry.stop()


def test_mutual_tls_uses_the_client_certificate(signed, tmp_path):
    registry = Registry(str(tmp_path), tls=True, auth=False, client_certificates=True)
    try:
        common = ["--registry", registry.url, "--repository", "site/assistant", "--ca-file", str(tmp_path / "ca.pem")]
        without = run([OUTPOST, "bundle", "push", "assistant.tar", *common], signed)
        assert without.returncode == 1 and without.stderr.strip(), without.stderr
        assert len(without.stderr.strip().splitlines()) == 1, without.stderr
        ok([OUTPOST, "bundle", "push", "assistant.tar", *common, "--cert", str(tmp_path / "client.pem"), "--key", str(tmp_path / "client.key")], signed)
        ok([OUTPOST, "bundle", "pull", "1.4.0", *common, "--cert", str(tmp_path / "client.pem"), "--key", str(tmp_path / "client.key"),
            "--output", str(tmp_path / "m.tar")], signed)
        ok([OUTPOST, "bundle", "verify", str(tmp_path / "m.tar"), "--trusted", "team.pub"], signed)
    finally:
        registry.stop()


class TokenServer:
    """The Docker token protocol in front of the registry: GET /token?service=&scope= with basic auth answers a
    JWT (RS256, signed with openssl, the certificate in x5c) granting the scope's actions to the right user."""

    def __init__(self, work):
        import base64
        import http.server
        import threading
        import urllib.parse

        ok(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Outpost test token issuer",
            "-keyout", "token.key", "-out", "token.pem"], work)
        der = subprocess.run(["openssl", "x509", "-in", "token.pem", "-outform", "DER"], cwd=work, capture_output=True, check=True).stdout
        x5c = base64.b64encode(der).decode()
        self.requests = []
        server_self = self

        def b64(data):
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                query = urllib.parse.parse_qs(url.query)
                server_self.requests.append(query)
                expected = "Basic " + base64.b64encode(b"site:s3cret").decode()
                if url.path != "/token" or self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                access = []
                for scope in query.get("scope", []):
                    kind, name, actions = scope.split(":")
                    access.append({"type": kind, "name": name, "actions": actions.split(",")})
                now = int(time.time())
                header = {"alg": "RS256", "typ": "JWT", "x5c": [x5c]}
                claims = {"iss": "outpost-test-issuer", "sub": "site", "aud": query.get("service", [""])[0], "exp": now + 300,
                          "nbf": now - 10, "iat": now, "jti": str(now) + str(len(server_self.requests)), "access": access}
                signing_input = (b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())).encode()
                signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", os.path.join(work, "token.key")], input=signing_input,
                                           capture_output=True, check=True).stdout
                body = json.dumps({"token": signing_input.decode() + "." + b64(signature)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def test_bearer_tokens_from_a_token_server(signed, tmp_path):
    tokens = TokenServer(str(tmp_path))
    registry = Registry(str(tmp_path), tls=False, auth=False,
                        extra=["auth:", "  token:", f"    realm: {tokens.url}", "    service: outpost-registry",
                               "    issuer: outpost-test-issuer", f"    rootcertbundle: {tmp_path}/token.pem"])
    try:
        with open(os.path.join(tmp_path, "auth"), "w") as f:
            f.write("site:s3cret\n")
        common = ["--registry", registry.url, "--repository", "site/assistant"]
        anonymous = run([OUTPOST, "bundle", "push", "assistant.tar", *common], signed)
        assert anonymous.returncode == 1 and "401" in anonymous.stderr, anonymous.stderr
        ok([OUTPOST, "bundle", "push", "assistant.tar", *common, "--auth-file", str(tmp_path / "auth")], signed)
        ok([OUTPOST, "bundle", "pull", "1.4.0", *common, "--auth-file", str(tmp_path / "auth"), "--output", str(tmp_path / "t.tar")], signed)
        ok([OUTPOST, "bundle", "verify", str(tmp_path / "t.tar"), "--trusted", "team.pub"], signed)
        scopes = [q.get("scope", [""])[0] for q in tokens.requests]
        assert any(s.startswith("repository:site/assistant:") and "push" in s for s in scopes), scopes
        assert all(q.get("service") == ["outpost-registry"] for q in tokens.requests), tokens.requests
    finally:
        registry.stop()
        tokens.stop()
