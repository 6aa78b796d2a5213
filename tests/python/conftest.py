"""Fixtures for the black-box suite: one shared Spate server for the session, fresh servers on
demand for tests that count streams or stop and restart the server, boto3 clients, stream names;
and a real S3-compatible server (s3s-fs) for Firehose to deliver to, with a fresh bucket per test.

A Firehose test points a Spate server of its own at the S3 server and its credentials:

    def test_delivery(spate_factory, s3_server, s3, s3_bucket):
        server = spate_factory(env=s3_server.credentials_env,
                               args=["--s3-endpoint", s3_server.endpoint])
        ...  # create a delivery stream with s3_bucket as its destination, put records
        s3.list_objects_v2(Bucket=s3_bucket, Prefix="...")

(`spate serve --s3-endpoint URL` takes the credentials from AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY in its environment, which `credentials_env` holds.) A test that stops or
restarts the S3 server uses `s3_server_factory()` for one of its own instead of the shared one.

When a test fails, the tail of the log of every server that was up during the test, Spate's and
S3's, is attached to the failure report.
"""

from __future__ import annotations

import pytest

import harness
from harness import ExternalServer, PostgresServer, S3Server, SpateServer


def pytest_configure(config):
    harness.isolate_aws_environment()


def pytest_report_header(config):
    endpoint = harness.external_endpoint()
    if endpoint:
        return f"spate: external endpoint {endpoint} (SPATE_TEST_ENDPOINT)"
    return f"spate: binary {harness.spate_binary()}"


def _require_binary():
    binary = harness.spate_binary()
    if not binary.is_file():
        pytest.exit(f"spate binary not found at {binary}: build it first "
                    "(cargo build -p spate) or set SPATE_BIN", returncode=4)
    return binary


def _served(server):
    """The body of a session fixture that serves `server`: starts it, yields it, and stops it
    (gracefully) at teardown unless a test left it stopped."""
    server.start()
    yield server
    if server.running:
        server.stop()


def _factory(new_server):
    """The body of a fixture that starts servers of the test's own: yields `start(...)`, which
    builds a server by `new_server(index, ...)` (index: 0, 1, ... in the test) and starts it; all
    that still run are killed at teardown."""
    servers = []

    def start(*args, **kwargs):
        server = new_server(len(servers), *args, **kwargs)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        if server.running:
            server.kill()


@pytest.fixture(scope="session")
def spate(tmp_path_factory):
    """The server most tests share; tests keep apart by using their own stream names."""
    endpoint = harness.external_endpoint()
    if endpoint:
        yield ExternalServer(endpoint)
        return
    binary = _require_binary()
    base = tmp_path_factory.mktemp("spate-shared")
    yield from _served(SpateServer(binary, base / "data", base / "server.log"))


@pytest.fixture(scope="session")
def endpoint(spate) -> str:
    return spate.endpoint


@pytest.fixture(scope="session")
def kinesis(endpoint):
    return harness.kinesis_client(endpoint)


@pytest.fixture
def spate_factory(tmp_path):
    """Starts servers of the test's own: `spate_factory(env={...}, args=[...])` returns a running
    server (`args`: more `spate serve` arguments).

    Each has its own data directory (or `data_dir=`) and log; all are stopped at teardown.
    `args=` adds `spate serve` flags; `ca_bundle=` is the PEM to trust when TLS serves a
    certificate the test made.
    Skipped against an external endpoint, which cannot be started, stopped or counted on.
    """
    if harness.external_endpoint():
        pytest.skip("needs a Spate server of its own (SPATE_TEST_ENDPOINT is set)")
    binary = _require_binary()

    def new_server(index: int, env: dict[str, str] | None = None, data_dir=None,
                   args: list[str] | None = None, ca_bundle=None) -> SpateServer:
        return SpateServer(binary, data_dir or tmp_path / f"data-{index}",
                           tmp_path / f"server-{index}.log", env=env, args=args,
                           ca_bundle=ca_bundle)

    yield from _factory(new_server)


@pytest.fixture
def stream_name(request) -> str:
    """A stream name unique to this test run, derived from the test's name."""
    return harness.unique_name(request.node.name.removeprefix("test_"))


@pytest.fixture
def new_stream(kinesis, request):
    """`new_stream(shard_count=1, **create_args)` creates an ACTIVE stream and returns its name.

    The streams are deleted at teardown so the shared server stays small.
    """
    created: list[str] = []

    def create(shard_count: int | None = 1, name: str | None = None, **create_args) -> str:
        name = name or harness.unique_name(request.node.name.removeprefix("test_"))
        harness.create_active_stream(kinesis, name, shard_count, **create_args)
        created.append(name)
        return name

    yield create
    for name in created:
        try:
            kinesis.delete_stream(StreamName=name)
        except Exception:  # already deleted by the test, or the server is gone
            pass


def _require_s3s_fs():
    binary = harness.s3s_fs_binary()
    if not binary.is_file():
        pytest.fail(f"s3s-fs not found at {binary}: run the tests with scripts/test-python, or set "
                    "SPATE_S3S_FS_BIN to the path scripts/s3-server-bin prints", pytrace=False)
    return binary


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> S3Server:
    """The S3 server the tests share; they keep apart by using their own buckets (s3_bucket)."""
    binary = _require_s3s_fs()
    base = tmp_path_factory.mktemp("s3-shared")
    yield from _served(S3Server(binary, base / "root", base / "s3s-fs.log"))


@pytest.fixture
def s3_server_factory(tmp_path):
    """Starts S3 servers of the test's own, each on a fresh root under the test's tmp_path, for
    tests that stop or restart S3 (`server.stop()`, then `server.start()` on the same port and
    root). All are killed at teardown."""
    binary = _require_s3s_fs()
    yield from _factory(lambda index: S3Server(binary, tmp_path / f"s3-root-{index}",
                                               tmp_path / f"s3s-fs-{index}.log"))


@pytest.fixture(scope="session")
def s3(s3_server):
    """A boto3 S3 client of the shared S3 server (path-style, the server's credentials)."""
    return harness.s3_client(s3_server.endpoint)


@pytest.fixture
def s3_bucket(s3, request) -> str:
    """A fresh, empty bucket on the shared S3 server, named after the test; emptied and deleted
    at teardown so the server's root stays small."""
    bucket = harness.unique_bucket_name(request.node.name.removeprefix("test_"))
    s3.create_bucket(Bucket=bucket)
    yield bucket
    try:
        harness.empty_and_delete_bucket(s3, bucket)
    except Exception:  # deleted by the test already, or the server is gone
        pass


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory) -> PostgresServer:
    """A PostgreSQL server standing in for Redshift, shared by the session; tests keep apart by
    using tables of their own. `postgres_server.connect()` is a pg8000 connection to its
    database, `postgres_server.jdbc_url()` the ClusterJDBCURL that names it."""
    bin_dir = harness.postgres_bin_dir()
    if bin_dir is None or not (bin_dir / "postgres").is_file():
        pytest.fail("PostgreSQL's initdb and postgres not found: run the tests with "
                    "scripts/test-python, or set SPATE_PG_BIN to the directory "
                    "scripts/postgres-bin prints", pytrace=False)
    base = tmp_path_factory.mktemp("postgres")
    yield from _served(PostgresServer(bin_dir, base / "postgres.log"))


_LOG_OFFSETS = pytest.StashKey[dict]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item.stash[_LOG_OFFSETS] = {id(server): server.log_size()
                                for server in harness.logged_servers()}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    offsets = item.stash.get(_LOG_OFFSETS, {})
    for server in harness.logged_servers():
        written = server.log_tail(since=offsets.get(id(server), 0))
        if written.strip():
            report.sections.append((f"{server.log_label} log during the test ({server.log_path})",
                                    written))
