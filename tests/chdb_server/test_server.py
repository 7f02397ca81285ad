"""Tests for the chDB-backed ClickHouse HTTP adapter (server.py).

    python3 -m unittest discover -s tests/chdb_server -v
    (needs: pip install -r tests/chdb_server/requirements.txt)

Each test class starts server.py as a subprocess on a free port with a fresh data dir.
The compressed-block framing is built and checked here independently of server.py.
"""
import concurrent.futures, http.client, json, os, shutil, signal, struct, subprocess, sys, tempfile, unittest
import urllib.parse

import lz4.block, lz4.frame
from clickhouse_cityhash.cityhash import CityHash128

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "server.py")


def cityhash(data):
    h = CityHash128(data)
    return struct.pack("<QQ", h >> 64, h & (2**64 - 1))


def frame_blocks(data, block_size):
    """ClickHouse compressed-block framing: checksum(16) | 0x82 | u32 size+9 | u32 raw | lz4."""
    out = b""
    for off in range(0, len(data), block_size):
        raw = data[off:off + block_size]
        comp = lz4.block.compress(raw, store_size=False)
        hdr_and_data = struct.pack("<BII", 0x82, 9 + len(comp), len(raw)) + comp
        out += cityhash(hdr_and_data) + hdr_and_data
    return out


def unframe_blocks(buf):
    out, i, blocks = b"", 0, 0
    while i < len(buf):
        method, csize, rsize = struct.unpack_from("<BII", buf, i + 16)
        block = buf[i + 16:i + 16 + csize]
        assert cityhash(block) == buf[i:i + 16], "bad checksum in response"
        assert method == 0x82, method
        out += lz4.block.decompress(block[9:], uncompressed_size=rsize)
        i, blocks = i + 16 + csize, blocks + 1
    return out, blocks


def leb128(n):
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def rb_rows(rows):
    """RowBinary for (id UInt64, name String) rows."""
    return b"".join(struct.pack("<Q", i) + leb128(len(s.encode())) + s.encode() for i, s in rows)


def start_server(data_dir, log_path):
    """Start server.py on a free port; its stderr (one line per request) goes to log_path."""
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, SERVER, "--port", "0", "--data", data_dir],
                                stdout=subprocess.PIPE, stderr=log, text=True)
    line = proc.stdout.readline()
    if not line.startswith("listening on 127.0.0.1:"):
        proc.kill()
        proc.wait()
        with open(log_path) as log:
            raise RuntimeError(f"server did not start: {line!r}\n{log.read()}")
    return proc, int(line.rsplit(":", 1)[1])


def stop_server(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=30)
    finally:
        proc.stdout.close()


class ServerCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="chdb_server_test_")
        cls.log = os.path.join(cls.dir, "server.log")
        cls.proc, cls.port = start_server(os.path.join(cls.dir, "data"), cls.log)

    @classmethod
    def tearDownClass(cls):
        stop_server(cls.proc)
        shutil.rmtree(cls.dir, ignore_errors=True)

    def request(self, method="POST", body=b"", headers=None, **params):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            path = "/?" + urllib.parse.urlencode(params) if params else "/"
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def ok(self, sql, **params):
        status, headers, body = self.request(body=sql.encode(), **params)
        self.assertEqual(status, 200, body)
        return body


class TestServer(ServerCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        conn = ServerCase.request
        for sql in ["CREATE DATABASE IF NOT EXISTS t1",
                    "CREATE TABLE t1.items (id UInt64, name String) ENGINE = MergeTree ORDER BY id"]:
            status, _, body = conn(cls, body=sql.encode())
            assert status == 200, body

    def setUp(self):
        self.ok("TRUNCATE TABLE items", database="t1")

    def test_ping(self):
        self.assertEqual(self.request("GET")[2], b"Ok.\n")
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", "/ping")
        self.assertEqual(conn.getresponse().read(), b"Ok.\n")
        conn.close()
        with open(self.log) as log:
            self.assertRegex(log.read(), r"(?m)^GET '' 200 [0-9.]+ms$")

    def test_get_query_and_default_format(self):
        status, headers, body = self.request("GET", query="SELECT 1 + 1")
        self.assertEqual((status, body), (200, b"2\n"))  # TabSeparated by default
        self.assertEqual(self.request("GET", query="SELECT 'a' AS s", default_format="JSONEachRow")[2],
                         b'{"s":"a"}\n')

    def test_insert_rowbinary_uncompressed_and_select(self):
        rows = [(i, f"name-{i}") for i in range(1000)]
        self.request(body=rb_rows(rows), query="INSERT INTO items FORMAT RowBinary", database="t1")
        body = self.ok("SELECT count(), sum(id) FROM items", database="t1")
        self.assertEqual(body, b"1000\t499500\n")
        body = self.ok("SELECT id, name FROM items ORDER BY id LIMIT 2", database="t1",
                       default_format="RowBinaryWithNamesAndTypes")
        header = b"\x02\x02id\x04name\x06UInt64\x06String"
        self.assertEqual(body, header + rb_rows(rows[:2]))

    def test_insert_compressed_multiblock_and_compressed_select(self):
        rows = [(i, "x" * (i % 50)) for i in range(20000)]
        data = rb_rows(rows)
        framed = frame_blocks(data, 64 * 1024)
        self.assertGreater(framed.count(b"\x82"), 3)
        status, _, body = self.request(body=framed, database="t1", decompress="1",
                                       query="INSERT INTO items (id, name) FORMAT RowBinary")
        self.assertEqual(status, 200, body)
        status, headers, body = self.request(body=b"SELECT id, name FROM items ORDER BY id",
                                             database="t1", compress="1", default_format="RowBinary")
        self.assertEqual(status, 200)
        raw, blocks = unframe_blocks(body)
        self.assertEqual(raw, data)
        self.assertGreaterEqual(blocks, 1)
        summary = json.loads(headers["X-ClickHouse-Summary"])
        self.assertEqual(summary["read_rows"], "20000")

    def test_select_json_compressed_and_http_lz4(self):
        self.request(body=rb_rows([(1, "a"), (2, "b")]), query="INSERT INTO items FORMAT RowBinary",
                     database="t1")
        expected = b'{"id":1,"name":"a"}\n{"id":2,"name":"b"}\n'
        sql = b"SELECT * FROM items ORDER BY id"
        plain = self.request(body=sql, database="t1", default_format="JSONEachRow")[2]
        self.assertEqual(plain, expected)
        framed = self.request(body=sql, database="t1", default_format="JSONEachRow", compress="1")[2]
        self.assertEqual(unframe_blocks(framed)[0], expected)
        # what clickhouse-rs 0.15 does for SELECTs: Accept-Encoding: lz4 -> LZ4 frame format
        status, headers, body = self.request(body=sql, headers={"Accept-Encoding": "lz4"},
                                             database="t1", default_format="JSONEachRow")
        self.assertEqual(headers.get("Content-Encoding"), "lz4")
        self.assertEqual(lz4.frame.decompress(body), expected)

    def test_insert_jsoneachrow_tsv_values_and_inline(self):
        self.request(body=b'{"id":1,"name":"j"}\n{"id":2,"name":"k"}\n', database="t1",
                     query="INSERT INTO items FORMAT JSONEachRow")
        self.request(body=b"3\tt\n", database="t1", query="INSERT INTO items FORMAT TSV")
        self.ok("INSERT INTO items FORMAT JSONEachRow\n{\"id\":4,\"name\":\"inline\"}", database="t1")
        self.ok("INSERT INTO items VALUES (5, 'v')", database="t1")
        body = self.ok("SELECT groupArray(name) FROM (SELECT name FROM items ORDER BY id)",
                       database="t1")
        self.assertEqual(body, b"['j','k','t','inline','v']\n")

    def test_chunked_request_body(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        q = urllib.parse.urlencode({"query": "INSERT INTO t1.items FORMAT RowBinary", "decompress": "1"})
        data = frame_blocks(rb_rows([(i, "c") for i in range(100)]), 300)
        conn.request("POST", "/?" + q, body=iter([data[:100], data[100:]]), encode_chunked=True)
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200, resp.read())
        resp.read()
        conn.close()
        self.assertEqual(self.ok("SELECT count() FROM t1.items"), b"100\n")

    def test_settings_and_query_params(self):
        body = self.ok("SELECT getSetting('max_threads')", max_threads="3")
        self.assertEqual(body, b"3\n")
        self.assertNotEqual(self.ok("SELECT getSetting('max_threads')"), b"3\n")  # reset after use
        self.ok("DESCRIBE TABLE items", database="t1", describe_include_subcolumns="0",
                default_format="RowBinaryWithNamesAndTypes")
        self.assertEqual(self.ok("SELECT {x:UInt8} * 2", param_x="21"), b"42\n")

    def test_errors(self):
        status, headers, body = self.request(body=b"SELECT * FROM no_such_table")
        self.assertEqual(status, 500)
        self.assertEqual(headers["X-ClickHouse-Exception-Code"], "60")
        self.assertRegex(body.decode(), r"^Code: 60\. DB::Exception: .*\(UNKNOWN_TABLE\) \(version .*\)\n$")
        status, headers, _ = self.request(body=b"SELEC 1")
        self.assertEqual((status, headers["X-ClickHouse-Exception-Code"]), (500, "62"))
        bad = bytearray(frame_blocks(rb_rows([(1, "a")]), 100))
        bad[0] ^= 1
        status, headers, body = self.request(body=bytes(bad), query="INSERT INTO t1.items FORMAT RowBinary",
                                             decompress="1")
        self.assertEqual((status, headers["X-ClickHouse-Exception-Code"]), (500, "40"), body)
        status, headers, _ = self.request(body=b"SELECT 1", no_such_setting="1")
        self.assertEqual((status, headers["X-ClickHouse-Exception-Code"]), (500, "115"))
        self.assertEqual(self.ok("SELECT 1"), b"1\n")  # still healthy

    def test_concurrent_requests(self):
        self.ok("CREATE TABLE IF NOT EXISTS conc (w UInt64, i UInt64) ENGINE = MergeTree ORDER BY w",
                database="t1")

        def worker(w):
            for i in range(20):
                data = struct.pack("<QQ", w, i)
                status, _, body = self.request(body=frame_blocks(data, 64), database="t1", decompress="1",
                                               query="INSERT INTO conc FORMAT RowBinary")
                assert status == 200, body
                status, _, body = self.request(body=b"SELECT count() FROM conc", database="t1")
                assert status == 200, body
            return w

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            self.assertEqual(sorted(pool.map(worker, range(8))), list(range(8)))
        self.assertEqual(self.ok("SELECT count(), uniqExact(w, i) FROM conc", database="t1"), b"160\t160\n")

    def test_replacing_merge_tree_final(self):
        self.ok("CREATE TABLE IF NOT EXISTS rmt (k UInt64, v String, ver UInt64) "
                "ENGINE = ReplacingMergeTree(ver) ORDER BY k", database="t1")
        for ver, v in [(1, "old"), (2, "new")]:
            self.request(body=f'{{"k":1,"v":"{v}","ver":{ver}}}\n'.encode(), database="t1",
                         query="INSERT INTO rmt FORMAT JSONEachRow")
        self.assertEqual(self.ok("SELECT count() FROM rmt", database="t1"), b"2\n")
        self.assertEqual(self.ok("SELECT k, v FROM rmt FINAL", database="t1"), b"1\tnew\n")


class TestPersistence(unittest.TestCase):
    def test_data_survives_restart(self):
        tmp = tempfile.mkdtemp(prefix="chdb_server_persist_")
        data = os.path.join(tmp, "data")
        try:
            for step in range(2):
                proc, port = start_server(data, os.path.join(tmp, "server.log"))
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    sqls = ["CREATE TABLE p (a UInt32) ENGINE = MergeTree ORDER BY a",
                            "INSERT INTO p VALUES (1), (2), (3)"] if step == 0 else []
                    for sql in sqls + ["SELECT sum(a) FROM p"]:
                        conn.request("POST", "/", body=sql.encode())
                        resp = conn.getresponse()
                        body = resp.read()
                        self.assertEqual(resp.status, 200, body)
                    self.assertEqual(body, b"6\n")
                    conn.close()
                finally:
                    self.assertEqual(stop_server(proc), 0)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
