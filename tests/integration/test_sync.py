"""The agent following a release channel on a real registry (Debian's docker-registry on 127.0.0.1): a published
release is picked up, verified, stored, smoke-tested and served; a second release moves it; a replayed older
release is refused with an alert while the current version keeps serving; a download killed half-way resumes
after a restart without fetching the blob again."""
import json
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import OUTPOST, Daemon, ok_cli as ok, run_cli as run
from test_gemma3 import model_path as gemma_path
from test_registry import Registry
from test_smollm2 import model_path as smollm2_path


def wait_until(predicate, timeout=120, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}; last: {last}")


@pytest.fixture(scope="module")
def central(tmp_path_factory):
    """The central team's side: a key, bundles, a registry."""
    work = str(tmp_path_factory.mktemp("central"))
    ok([OUTPOST, "keygen", "--no-password", "--secret-key", "team.key", "--public-key", "team.pub"], work)
    for version, model in [("1.0.0", smollm2_path()), ("1.1.0", smollm2_path()), ("2.0.0", gemma_path())]:
        ok([OUTPOST, "bundle", "create", "--model", model, "--name", "assistant", "--version", version, "--smoke-tokens", "4",
            "--output", f"assistant-{version}.tar"], work)
        ok([OUTPOST, "bundle", "sign", f"assistant-{version}.tar", "--secret-key", "team.key"], work)
    registry = Registry(os.path.join(work), tls=False, auth=False)
    yield work, registry
    registry.stop()


def publish(work, registry, *bundles, channel="stable"):
    out = ok([OUTPOST, "release", "publish", "--registry", registry.url, "--repository", "fleet/models", "--channel", channel,
              "--secret-key", "team.key", *[f"assistant={b}" for b in bundles]], work)
    return out.stdout.strip().splitlines()[-1]


def push(work, registry, version):
    ok([OUTPOST, "bundle", "push", f"assistant-{version}.tar", "--registry", registry.url, "--repository", "fleet/models",
        "--tag", f"assistant-{version}"], work)


class Site:
    def __init__(self, workdir, central, extra=""):
        work, registry = central
        os.makedirs(os.path.join(workdir, "trusted"), exist_ok=True)
        subprocess.run(["cp", os.path.join(work, "team.pub"), os.path.join(workdir, "trusted", "team.pub")], check=True)
        with open(os.path.join(workdir, "store.key"), "wb") as f:
            f.write(os.urandom(32))
        self.config = (f'[bundles]\ntrusted_dir = "{workdir}/trusted"\n[store]\nmin_free_mb = 0\n'
                       f'[sync]\nregistry = "{registry.url}"\nrepository = "fleet/models"\nchannel = "stable"\ninterval_seconds = 2\n{extra}')
        self.workdir = workdir

    def start(self):
        self.daemon = Daemon(self.workdir, self.config, extra_args=("--store-key-file", os.path.join(self.workdir, "store.key"))).start()
        return self.daemon

    def cli(self, *args):
        return ok([OUTPOST, *args, "--socket", self.daemon.socket], self.workdir)

    def status(self):
        return json.loads(self.cli("sync", "status", "--json").stdout)

    def active(self):
        rows = json.loads(self.cli("versions", "--json").stdout)
        return [r["version"] for r in rows if r["active"]]

    def completes(self):
        c = self.daemon.connection(timeout=120)
        try:
            c.request("POST", "/v1/completions", body=json.dumps({"model": "assistant", "prompt": "Hello", "max_tokens": 4, "temperature": 0}),
                      headers={"Content-Type": "application/json"})
            return c.getresponse().status == 200
        finally:
            c.close()


def test_follow_a_channel_and_refuse_a_replay(central, workdir):
    work, registry = central
    push(work, registry, "1.0.0")
    publish(work, registry, "assistant-1.0.0")
    first_release = subprocess.run(["curl", "-sf", "-H", "Accept: application/vnd.oci.image.manifest.v1+json",
                                    f"{registry.url}/v2/fleet/models/manifests/stable"], capture_output=True, check=True).stdout
    site = Site(workdir, central)
    site.start()
    try:
        wait_until(lambda: site.active() == ["1.0.0"], what="1.0.0 active")
        assert site.completes()
        status = site.status()
        assert status["release"] == 1 and status["last_success"] and status["channel"] == "stable"
        human = site.cli("sync", "status").stdout
        assert "release: 1" in human and "last success:" in human

        push(work, registry, "1.1.0")
        publish(work, registry, "assistant-1.1.0")
        site.cli("sync", "now")
        wait_until(lambda: site.active() == ["1.1.0"], what="1.1.0 active")
        assert site.status()["release"] == 2

        # The channel tag moved back to release 1 (a replay): refused, alerted, counted; 1.1.0 keeps serving.
        subprocess.run(["curl", "-sf", "-X", "PUT", "-H", "Content-Type: application/vnd.oci.image.manifest.v1+json",
                        "--data-binary", "@-", f"{registry.url}/v2/fleet/models/manifests/stable"], input=first_release, check=True)
        site.cli("sync", "now")
        wait_until(lambda: "older than release 2" in (site.status()["last_error"] or ""), what="the replay refused")
        assert site.active() == ["1.1.0"] and site.completes()
        log = site.daemon.log()
        assert "alert=1" in log.lower() and "release refused" in log
        metrics = site.daemon.get("/metrics")[1]
        assert 'outpost_sync_refused_total{reason="rollback"}' in metrics
    finally:
        site.daemon.stop()


def test_a_download_killed_half_way_resumes(central, workdir):
    work, registry = central
    push(work, registry, "2.0.0")
    publish(work, registry, "assistant-2.0.0", channel="big")
    site = Site(workdir, central, extra="max_bytes_per_second = 40000000\n")
    site.config = site.config.replace('channel = "stable"', 'channel = "big"')
    site.start()
    size = os.path.getsize(gemma_path())
    wait_until(lambda: (site.status().get("downloading") or {}).get("bytes", 0) > size * 0.4, what="the model 40% downloaded")
    site.daemon.proc.send_signal(signal.SIGKILL)
    site.daemon.proc.wait()
    site.start()
    wait_until(lambda: site.active() == ["2.0.0"], timeout=300, what="2.0.0 active after the restart")
    assert site.completes()
    # What the registry sent for the model blob in all: under 1.2x its size.
    digest = subprocess.run(["sha256sum", gemma_path()], capture_output=True, text=True, check=True).stdout.split()[0]
    sent = 0
    for line in registry.log().splitlines():
        if f"/blobs/sha256:{digest}" in line and "GET" in line:
            found = re.search(r"http\.response\.written=(\d+)", line)
            if found:
                sent += int(found.group(1))
    assert size <= sent < 1.2 * size, (sent, size)
    site.daemon.stop()


def test_a_registry_asking_to_wait_is_not_asked_sooner_and_serving_goes_on(central, workdir):
    """A registry answering 429 with Retry-After: the next check waits at least that long; the agent keeps
    answering the whole time."""
    import http.server
    import threading

    class Busy(http.server.BaseHTTPRequestHandler):
        hits = []

        def do_GET(self):
            Busy.hits.append(time.monotonic())
            if self.path == "/v2/":
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = b'{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}'
            self.send_response(429)
            self.send_header("Retry-After", "30")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_HEAD = do_GET

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Busy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        site = Site(workdir, central)
        site.config = site.config.replace(central[1].url, f"http://127.0.0.1:{server.server_address[1]}")
        site.start()
        status = wait_until(lambda: (lambda s: s if s["last_error"] else None)(site.status()), what="the 429 seen")
        assert "429" in status["last_error"] and status["retry_after_seconds"] == 30, status
        hits = len(Busy.hits)
        for _ in range(10):  # 3 s with interval_seconds = 2: no new request, and the agent answers meanwhile
            assert site.daemon.get("/v1/health")[0] == 200
            time.sleep(0.3)
        assert len(Busy.hits) == hits, "asked again before Retry-After"
        site.daemon.stop()
    finally:
        server.shutdown()


def put_blob(url, repository, data):
    import hashlib as h
    digest = "sha256:" + h.sha256(data).hexdigest()
    location = subprocess.run(["curl", "-sf", "-X", "POST", "-D", "-", "-o", "/dev/null", f"{url}/v2/{repository}/blobs/uploads/"],
                              capture_output=True, text=True, check=True).stdout
    target = [line.split(":", 1)[1].strip() for line in location.splitlines() if line.lower().startswith("location:")][0]
    if target.startswith("/"):
        target = url + target
    subprocess.run(["curl", "-sf", "-X", "PUT", "-H", "Content-Type: application/octet-stream", "--data-binary", "@-",
                    target + ("&" if "?" in target else "?") + "digest=" + digest], input=data, check=True)
    return digest, len(data)


def test_an_expired_release_and_a_bad_blob_are_refused_and_nothing_changes(central, workdir, tmp_path):
    work, _ = central
    registry = Registry(str(tmp_path), tls=False, auth=False)
    try:
        push(work, registry, "1.0.0")
        publish(work, registry, "assistant-1.0.0")
        site = Site(workdir, (work, registry))
        site.start()
        wait_until(lambda: site.active() == ["1.0.0"], what="1.0.0 active")

        # An expired release, signed by the trusted key (with minisign itself), number 2: refused with an alert.
        digest = subprocess.run(["curl", "-sf", "-I", "-H", "Accept: application/vnd.oci.image.manifest.v1+json",
                                 f"{registry.url}/v2/fleet/models/manifests/assistant-1.0.0"], capture_output=True, text=True, check=True).stdout
        manifest_digest = [line.split(":", 1)[1].strip() for line in digest.splitlines() if line.lower().startswith("docker-content-digest")][0]
        release = json.dumps({"schema": "outpost.release.v1", "channel": "stable", "number": 2, "created": "2026-01-01T00:00:00Z",
                              "expires": "2026-01-02T00:00:00Z", "bundles": {"assistant": {"version": "1.0.0", "manifest": manifest_digest}}},
                             indent=2).encode() + b"\n"
        with open(tmp_path / "release.json", "wb") as f:
            f.write(release)
        ok(["minisign", "-S", "-W", "-s", os.path.join(work, "team.key"), "-m", str(tmp_path / "release.json"), "-t", "old"], str(tmp_path))
        signature = open(tmp_path / "release.json.minisig", "rb").read()
        config = put_blob(registry.url, "fleet/models", release)
        sig = put_blob(registry.url, "fleet/models", signature)
        oci = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                          "artifactType": "application/vnd.outpost.release.v1+json",
                          "config": {"mediaType": "application/vnd.outpost.release.manifest.v1+json", "digest": config[0], "size": config[1]},
                          "layers": [{"mediaType": "application/vnd.outpost.release.signature.v1+minisign", "digest": sig[0], "size": sig[1]}]}).encode()
        subprocess.run(["curl", "-sf", "-X", "PUT", "-H", "Content-Type: application/vnd.oci.image.manifest.v1+json", "--data-binary", "@-",
                        f"{registry.url}/v2/fleet/models/manifests/stable"], input=oci, check=True)
        site.cli("sync", "now")
        wait_until(lambda: "expired at 2026-01-02T00:00:00Z" in (site.status()["last_error"] or ""), what="the expired release refused")
        assert site.active() == ["1.0.0"] and site.completes()
        assert 'outpost_sync_refused_total{reason="expired"}' in site.daemon.get("/metrics")[1]

        # A release naming 1.1.0 whose model blob the registry alters: refused, retried later, nothing activated.
        push(work, registry, "1.1.0")
        blobs = os.path.join(registry.root, "docker", "registry", "v2", "blobs", "sha256")
        model_digest = subprocess.run(["sha256sum", smollm2_path()], capture_output=True, text=True, check=True).stdout.split()[0]
        data = os.path.join(blobs, model_digest[:2], model_digest, "data")
        with open(data, "r+b") as f:
            f.seek(4096)
            byte = f.read(1)
            f.seek(4096)
            f.write(bytes([byte[0] ^ 1]))
        # 1.1.0 shares 1.0.0's model blob; remove the site's copy of the staging so it must fetch it again.
        publish(work, registry, "assistant-1.1.0")
        site.cli("sync", "now")
        wait_until(lambda: "arrived with digest" in (site.status()["last_error"] or ""), what="the altered blob refused")
        assert site.active() == ["1.0.0"] and site.completes()
        assert "1.1.0" not in [r["version"] for r in json.loads(site.cli("versions", "--json").stdout)]
        assert 'outpost_sync_refused_total{reason="digest"}' in site.daemon.get("/metrics")[1]
        site.daemon.stop()
    finally:
        registry.stop()


def test_the_agent_uses_its_client_certificate_and_a_down_registry_backs_off(central, workdir, tmp_path):
    work, _ = central
    registry = Registry(str(tmp_path), tls=True, auth=False, client_certificates=True)
    try:
        tls = ["--ca-file", str(tmp_path / "ca.pem"), "--cert", str(tmp_path / "client.pem"), "--key", str(tmp_path / "client.key")]
        ok([OUTPOST, "bundle", "push", "assistant-1.0.0.tar", "--registry", registry.url, "--repository", "fleet/models",
            "--tag", "assistant-1.0.0", *tls], work)
        ok([OUTPOST, "release", "publish", "--registry", registry.url, "--repository", "fleet/models", "--channel", "stable",
            "--secret-key", "team.key", "assistant=assistant-1.0.0", *tls], work)
        # Without the certificate: refused, and the agent says so.
        site = Site(workdir, (work, registry), extra=f'ca_file = "{tmp_path}/ca.pem"\n')
        site.start()
        error = wait_until(lambda: site.status()["last_error"], what="the TLS refusal")
        assert site.active() == [] and site.daemon.get("/v1/health")[0] == 200, error
        site.daemon.stop()
        site.config += f'client_certificate = "{tmp_path}/client.pem"\nclient_key = "{tmp_path}/client.key"\n'
        site.start()
        wait_until(lambda: site.active() == ["1.0.0"], what="1.0.0 active over mutual TLS")
        assert site.completes()
        site.daemon.stop()
    finally:
        registry.stop()
    # The registry is gone: failures back off (5 s, then 10 s...) instead of hammering, and serving goes on.
    site.start()
    wait_until(lambda: site.status()["failures"] >= 1, what="a failed check")
    attempts = site.status()["attempts"]
    for _ in range(10):
        assert site.daemon.get("/v1/health")[0] == 200 and site.completes()
        time.sleep(0.3)
    assert site.status()["attempts"] <= attempts + 1, site.status()
    assert site.status()["state"] == "backing off"
    site.daemon.stop()


class Proxy:
    """A forward HTTP proxy (absolute-URI requests, as libcurl sends them through http_proxy) that can cut the
    first transfer of a blob after `cut_after` bytes: a link that drops mid-download."""

    def __init__(self, cut_after=None, seconds_per_chunk=0.0):
        import http.client
        import http.server
        import threading
        import urllib.parse

        self.requests = []
        self.blob_bytes = 0
        self.cut_after = cut_after
        self.seconds_per_chunk = seconds_per_chunk
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def forward(self):
                url = urllib.parse.urlsplit(self.path)
                proxy.requests.append((self.command, url.path, self.headers.get("Range")))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                upstream = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection")}
                upstream.request(self.command, url.path + (f"?{url.query}" if url.query else ""), body=body, headers=headers)
                response = upstream.getresponse()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("connection", "transfer-encoding"):
                        self.send_header(key, value)
                self.send_header("Connection", "close")
                self.end_headers()
                is_blob = self.command == "GET" and "/blobs/sha256:" in url.path
                sent = 0
                while True:
                    chunk = response.read(65536)
                    if not chunk:
                        break
                    if is_blob and proxy.cut_after is not None and sent + len(chunk) > proxy.cut_after:
                        # Drop the link half-way, once.
                        self.wfile.write(chunk[: proxy.cut_after - sent])
                        proxy.blob_bytes += proxy.cut_after - sent
                        proxy.cut_after = None
                        self.close_connection = True
                        return
                    self.wfile.write(chunk)
                    if is_blob and proxy.seconds_per_chunk:
                        time.sleep(proxy.seconds_per_chunk)
                    sent += len(chunk)
                    if is_blob:
                        proxy.blob_bytes += len(chunk)
                self.close_connection = True

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = forward

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def test_through_a_proxy_and_a_link_dropped_mid_blob(central, workdir):
    work, registry = central
    push(work, registry, "1.0.0")
    publish(work, registry, "assistant-1.0.0", channel="proxied")
    size = os.path.getsize(smollm2_path())
    proxy = Proxy(cut_after=size // 3)
    try:
        # The CLI honours http_proxy, and no_proxy bypasses it.
        env = dict(os.environ, http_proxy=proxy.url)
        out = subprocess.run([OUTPOST, "release", "show", "--registry", registry.url, "--repository", "fleet/models", "--channel", "proxied"],
                             env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and proxy.requests, (out.stderr, proxy.requests)
        seen = len(proxy.requests)
        env["no_proxy"] = "127.0.0.1"
        out = subprocess.run([OUTPOST, "release", "show", "--registry", registry.url, "--repository", "fleet/models", "--channel", "proxied"],
                             env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and len(proxy.requests) == seen

        # The agent through the proxy; the proxy drops the model blob a third of the way in, once.
        site = Site(workdir, central)
        site.config = site.config.replace('channel = "stable"', 'channel = "proxied"')
        site.daemon = Daemon(workdir, site.config, env={"http_proxy": proxy.url},
                             extra_args=("--store-key-file", os.path.join(workdir, "store.key"))).start()
        wait_until(lambda: site.active() == ["1.0.0"], timeout=180, what="1.0.0 active through the proxy")
        ranges = [r for method, path, r in proxy.requests if method == "GET" and "/blobs/" in path and r]
        assert ranges and ranges[0].startswith("bytes="), proxy.requests
        # The whole model crossed the proxy once: a third, cut, then the rest from where it stopped.
        assert size <= proxy.blob_bytes < 1.2 * size, (proxy.blob_bytes, size)
        assert site.completes()
        site.daemon.stop()
    finally:
        proxy.stop()


def test_serving_goes_on_while_a_slow_link_downloads(central, workdir):
    """A registry behind a slow link (64 KiB every 20 ms, about 3 MB/s): the download takes tens of seconds and
    the agent answers health and completions promptly the whole time."""
    work, registry = central
    push(work, registry, "1.0.0")
    push(work, registry, "1.1.0")
    publish(work, registry, "assistant-1.0.0", channel="slow")
    proxy = Proxy(seconds_per_chunk=0.02)
    try:
        site = Site(workdir, central)
        site.config = site.config.replace('channel = "stable"', 'channel = "slow"')
        site.daemon = Daemon(workdir, site.config, env={"http_proxy": proxy.url},
                             extra_args=("--store-key-file", os.path.join(workdir, "store.key"))).start()
        wait_until(lambda: site.status().get("downloading"), what="the download under way")
        slowest = 0.0
        while site.status().get("downloading"):
            started = time.monotonic()
            assert site.daemon.get("/v1/health")[0] == 200
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.2)
        wait_until(lambda: site.active() == ["1.0.0"], timeout=180, what="1.0.0 active")
        assert slowest < 0.5, slowest
        site.daemon.stop()
    finally:
        proxy.stop()


def test_a_registry_answering_500_is_retried_with_backoff(workdir, central):
    """A registry whose repository answers 500: the error is reported, checks back off, serving goes on."""
    import http.server
    import threading

    hits = []

    class Broken(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(time.monotonic())
            status = 200 if self.path == "/v2/" else 500
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_HEAD = do_GET

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Broken)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        site = Site(workdir, central)
        site.config = site.config.replace(central[1].url, f"http://127.0.0.1:{server.server_address[1]}")
        site.start()
        status = wait_until(lambda: (lambda s: s if s["last_error"] else None)(site.status()), what="the 500 seen")
        assert "500" in status["last_error"], status
        before = len(hits)
        for _ in range(10):
            assert site.daemon.get("/v1/health")[0] == 200
            time.sleep(0.3)
        # interval_seconds = 2, but after a failure the next check waits about 5 s.
        assert len(hits) <= before + 2, (before, len(hits))
        site.daemon.stop()
    finally:
        server.shutdown()
